package cli

import (
	"context"
	"os"
	"testing"
)

// TestMain lets tests run the CLI in a child process (to kill it mid-work):
// when MEDWARDEN_CLI_CHILD is set, the test binary behaves as medwarden.
func TestMain(m *testing.M) {
	if os.Getenv("MEDWARDEN_CLI_CHILD") == "1" {
		os.Exit(Run(context.Background(), append([]string{"medwarden"}, os.Args[1:]...), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
