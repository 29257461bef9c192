package remediation

import (
	"testing"

	"github.com/medwarden/medwarden/internal/importcheck"
)

// TestPureImports keeps the package pure: no I/O packages, and of this
// module only the domain packages below it (never store, api, web, app, cli).
func TestPureImports(t *testing.T) {
	t.Parallel()
	importcheck.Pure(t,
		"github.com/medwarden/medwarden/internal/advisory",
		"github.com/medwarden/medwarden/internal/cvss",
		"github.com/medwarden/medwarden/internal/inventory",
		"github.com/medwarden/medwarden/internal/risk",
	)
}
