package event

import (
	"strconv"
	"testing"
	"time"
)

func TestPublishFansOutAndNeverBlocks(t *testing.T) {
	b := New()
	fast, stopFast := b.Subscribe(10)
	defer stopFast()
	slow, stopSlow := b.Subscribe(1)
	for i := range 3 {
		b.Publish(Event{Kind: Registered, Device: string(rune('a' + i))})
	}
	for i := range 3 {
		if e := <-fast; e.Device != string(rune('a'+i)) || e.Time.IsZero() {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	if e := <-slow; e.Device != "a" {
		t.Fatalf("slow subscriber got %+v", e)
	}
	if b.Dropped() != 2 {
		t.Fatalf("dropped = %d, want 2", b.Dropped())
	}
	stopSlow()
	stopSlow() // idempotent
	if _, ok := <-slow; ok {
		t.Fatal("channel not closed after unsubscribe")
	}
	b.Publish(Event{Kind: Expired}) // no panic on a closed subscriber
	if e := <-fast; e.Kind != Expired || e.Kind.String() != "expired" {
		t.Fatalf("got %+v", e)
	}
}

// A burst is delivered whole and in order, and the memory that held it goes
// once the reader has it all.
func TestBurstInOrderThenMemoryGoes(t *testing.T) {
	b := New()
	ch, stop := b.Subscribe(4096)
	defer stop()
	for i := range 4000 {
		b.Publish(Event{Kind: Registered, CallID: strconv.Itoa(i)})
	}
	for i := range 4000 {
		if e := <-ch; e.CallID != strconv.Itoa(i) {
			t.Fatalf("event %d is %q", i, e.CallID)
		}
	}
	if b.Dropped() != 0 {
		t.Fatalf("dropped %d", b.Dropped())
	}
	var s *subscriber
	for _, s = range b.subs {
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		held := cap(s.queue)
		s.mu.Unlock()
		if held <= 64 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber still holds room for %d events", held)
		}
		time.Sleep(time.Millisecond)
	}
}

// Unsubscribing while events wait unread ends the subscription at once.
func TestUnsubscribeWithEventsWaiting(t *testing.T) {
	b := New()
	ch, stop := b.Subscribe(10)
	for range 3 {
		b.Publish(Event{Kind: Expired})
	}
	stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after unsubscribe")
	}
	b.Publish(Event{Kind: Expired})
}
