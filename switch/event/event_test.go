package event

import "testing"

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
