package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/bustest"
	"github.com/medwarden/medwarden/internal/bus/memory"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	bustest.Run(t, func(t *testing.T, ackWait time.Duration) bus.Bus {
		return memory.New(memory.Options{AckWait: ackWait})
	})
}

func TestBounded(t *testing.T) {
	ctx := context.Background()
	b := memory.New(memory.Options{MaxMessages: 2, MaxBytes: 100})
	for _, id := range []string{"a", "b"} {
		if _, err := b.Publish(ctx, bus.Message{ID: id, Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Publish(ctx, bus.Message{ID: "c", Data: []byte("x")}); !errors.Is(err, bus.ErrFull) {
		t.Fatalf("third publish: %v, want ErrFull", err)
	}
	c, _ := b.Consumer(ctx, "x")
	d, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	if _, err := b.Publish(ctx, bus.Message{ID: "c", Data: []byte("x")}); err != nil {
		t.Fatalf("publish after ack freed room: %v", err)
	}
	big := make([]byte, 200)
	if _, err := b.Publish(ctx, bus.Message{ID: "d", Data: big}); !errors.Is(err, bus.ErrFull) {
		t.Fatalf("publish over MaxBytes: %v, want ErrFull", err)
	}
}

func TestCloseWakesConsumer(t *testing.T) {
	b := memory.New(memory.Options{})
	c, _ := b.Consumer(context.Background(), "x")
	done := make(chan error, 1)
	go func() { _, err := c.Next(context.Background()); done <- err }()
	time.Sleep(50 * time.Millisecond)
	b.Close()
	select {
	case err := <-done:
		if !errors.Is(err, bus.ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
}
