package nats_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/bustest"
	busnats "github.com/medwarden/medwarden/internal/bus/nats"
)

// OpenTest opens a bus on a stream unique to t and deletes the stream
// when t ends; it skips t unless MEDWARDEN_TEST_NATS is set.
func openTest(t *testing.T, ackWait time.Duration) bus.Bus {
	url := os.Getenv("MEDWARDEN_TEST_NATS")
	if url == "" {
		t.Skip("MEDWARDEN_TEST_NATS is not set (e.g. nats://127.0.0.1:4222): skipping the NATS JetStream bus tests")
	}
	name := fmt.Sprintf("MWTEST_%d", time.Now().UnixNano())
	b, err := busnats.Open(context.Background(), busnats.Options{URL: url, Stream: name, Subject: "mwtest." + name, AckWait: ackWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nb, err := busnats.Open(context.Background(), busnats.Options{URL: url, Stream: name, Subject: "mwtest." + name})
		if err == nil {
			nb.DeleteStream(context.Background())
			nb.Close()
		}
	})
	return b
}

func TestConformance(t *testing.T) {
	bustest.Run(t, openTest)
}

func TestParseURL(t *testing.T) {
	o, err := busnats.ParseURL("nats://127.0.0.1:4222?stream=S&subject=a.b&ack_wait=5s")
	if err != nil || o.URL != "nats://127.0.0.1:4222" || o.Stream != "S" || o.Subject != "a.b" || o.AckWait != 5*time.Second {
		t.Fatalf("ParseURL = %+v, %v", o, err)
	}
	if _, err := busnats.ParseURL("nats://x?ack_wait=10ms"); err == nil {
		t.Fatal("ack_wait below 1s accepted")
	}
	if _, err := busnats.ParseURL("http://x"); err == nil {
		t.Fatal("http:// accepted")
	}
}
