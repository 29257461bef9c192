// Package bustest is the conformance suite every bus implementation passes
// (bus/memory always; bus/nats when MEDWARDEN_TEST_NATS is set).
package bustest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
)

// Open returns a fresh, empty bus whose ack wait is ackWait; the suite
// closes it. Cleanup (deleting a NATS stream) is the opener's t.Cleanup.
type Open func(t *testing.T, ackWait time.Duration) bus.Bus

// Run runs the suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"publish_consume_ack_in_order", testInOrder},
		{"duplicate_id_dropped", testDedupe},
		{"unacked_redelivered", testRedelivery},
		{"nak_redelivered", testNak},
		{"acked_not_redelivered_to_new_consumer", testAckedGone},
		{"no_id_refused", testNoID},
		{"next_honours_context", testNextContext},
		{"concurrent_publishers_each_once", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func publish(t *testing.T, b bus.Bus, id, data string) bool {
	t.Helper()
	dup, err := b.Publish(ctxT(t), bus.Message{ID: id, Data: []byte(data)})
	if err != nil {
		t.Fatalf("Publish(%s): %v", id, err)
	}
	return dup
}

func next(t *testing.T, c bus.Consumer, within time.Duration) bus.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	d, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return d
}

func consumer(t *testing.T, b bus.Bus, name string) bus.Consumer {
	t.Helper()
	c, err := b.Consumer(ctxT(t), name)
	if err != nil {
		t.Fatalf("Consumer(%s): %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testInOrder(t *testing.T, open Open) {
	b := open(t, 5*time.Second)
	defer b.Close()
	for i := range 5 {
		publish(t, b, fmt.Sprintf("s1/%d", i), fmt.Sprintf("batch %d", i))
	}
	c := consumer(t, b, "ingest")
	for i := range 5 {
		d := next(t, c, 5*time.Second)
		m := d.Message()
		if want := fmt.Sprintf("s1/%d", i); m.ID != want || string(m.Data) != fmt.Sprintf("batch %d", i) || d.Attempt() != 1 {
			t.Fatalf("delivery %d = %q %q attempt %d, want %q attempt 1", i, m.ID, m.Data, d.Attempt(), want)
		}
		if err := d.Ack(ctxT(t)); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	expectNothing(t, c, 300*time.Millisecond)
}

func expectNothing(t *testing.T, c bus.Consumer, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if d, err := c.Next(ctx); err == nil {
		t.Fatalf("unexpected delivery %q (attempt %d)", d.Message().ID, d.Attempt())
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on an empty bus: %v, want context.DeadlineExceeded", err)
	}
}

func testDedupe(t *testing.T, open Open) {
	b := open(t, 5*time.Second)
	defer b.Close()
	if publish(t, b, "s1/1", "first") {
		t.Fatal("first publish reported as duplicate")
	}
	if !publish(t, b, "s1/1", "again") {
		t.Fatal("second publish of the same id not reported as duplicate")
	}
	c := consumer(t, b, "ingest")
	d := next(t, c, 5*time.Second)
	if string(d.Message().Data) != "first" {
		t.Fatalf("got %q, want the first publish", d.Message().Data)
	}
	d.Ack(ctxT(t))
	// Still a duplicate after the first was consumed (within the window).
	if !publish(t, b, "s1/1", "third") {
		t.Fatal("publish after ack of the same id not reported as duplicate")
	}
	expectNothing(t, c, 300*time.Millisecond)
}

func testRedelivery(t *testing.T, open Open) {
	b := open(t, time.Second)
	defer b.Close()
	publish(t, b, "s1/1", "x")
	c := consumer(t, b, "ingest")
	d1 := next(t, c, 5*time.Second)
	if d1.Attempt() != 1 {
		t.Fatalf("attempt %d, want 1", d1.Attempt())
	}
	// No ack: delivered again after each ack wait, counting up. A
	// redelivery lost between two of the consumer's pull requests would
	// show here as a late delivery or a count that is not 2 then 3.
	d2 := next(t, c, 10*time.Second)
	if d2.Message().ID != "s1/1" || d2.Attempt() != 2 {
		t.Fatalf("redelivery %q attempt %d, want s1/1 attempt 2", d2.Message().ID, d2.Attempt())
	}
	d3 := next(t, c, 10*time.Second)
	if d3.Message().ID != "s1/1" || d3.Attempt() != 3 {
		t.Fatalf("second redelivery %q attempt %d, want s1/1 attempt 3", d3.Message().ID, d3.Attempt())
	}
	if err := d3.Ack(ctxT(t)); err != nil {
		t.Fatalf("Ack redelivery: %v", err)
	}
	expectNothing(t, c, 1500*time.Millisecond)
}

func testNak(t *testing.T, open Open) {
	b := open(t, 10*time.Second)
	defer b.Close()
	publish(t, b, "s1/1", "x")
	c := consumer(t, b, "ingest")
	d := next(t, c, 5*time.Second)
	if err := d.Nak(ctxT(t), 0); err != nil {
		t.Fatalf("Nak: %v", err)
	}
	d2 := next(t, c, 5*time.Second)
	if d2.Message().ID != "s1/1" || d2.Attempt() != 2 {
		t.Fatalf("after Nak got %q attempt %d", d2.Message().ID, d2.Attempt())
	}
	d2.Ack(ctxT(t))
}

func testAckedGone(t *testing.T, open Open) {
	b := open(t, time.Second)
	defer b.Close()
	publish(t, b, "s1/1", "a")
	publish(t, b, "s1/2", "b")
	c := consumer(t, b, "ingest")
	d := next(t, c, 5*time.Second)
	if err := d.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// A new consumer of the same durable name resumes: only s1/2 is left.
	c2 := consumer(t, b, "ingest")
	d2 := next(t, c2, 10*time.Second)
	if d2.Message().ID != "s1/2" {
		t.Fatalf("resumed consumer got %q, want s1/2", d2.Message().ID)
	}
	d2.Ack(ctxT(t))
	expectNothing(t, c2, 1500*time.Millisecond)
}

func testNoID(t *testing.T, open Open) {
	b := open(t, time.Second)
	defer b.Close()
	if _, err := b.Publish(ctxT(t), bus.Message{Data: []byte("x")}); !errors.Is(err, bus.ErrNoID) {
		t.Fatalf("Publish without id: %v, want ErrNoID", err)
	}
}

func testNextContext(t *testing.T, open Open) {
	b := open(t, time.Second)
	defer b.Close()
	c := consumer(t, b, "ingest")
	start := time.Now()
	expectNothing(t, c, 200*time.Millisecond)
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Next returned %v after its context ended", el)
	}
}

func testConcurrent(t *testing.T, open Open) {
	b := open(t, 10*time.Second)
	defer b.Close()
	const pubs, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, pubs)
	for p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every message twice: the copy must be dropped.
				for range 2 {
					if _, err := b.Publish(context.Background(), bus.Message{ID: fmt.Sprintf("s%d/%d", p, i), Data: []byte("x")}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := consumer(t, b, "ingest")
	got := map[string]int{}
	for range pubs * each {
		d := next(t, c, 10*time.Second)
		got[d.Message().ID]++
		if err := d.Ack(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != pubs*each {
		t.Fatalf("%d distinct messages, want %d", len(got), pubs*each)
	}
	expectNothing(t, c, 300*time.Millisecond)
}
