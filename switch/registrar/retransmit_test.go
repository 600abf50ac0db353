package registrar

import (
	"testing"
	"time"

	"switchboard/switch/event"
)

// A retransmitted REGISTER reaches the registrar itself once its transaction
// is gone (HandleRegister ends it after a 200). It must get the same 200 and
// change nothing; an older request must still be refused.
func TestRetransmittedRegister(t *testing.T) {
	r := benchRegistrar(t)
	events, stop := r.bus.Subscribe(8)
	defer stop()
	req := authedRequests(t, r, 1)[0]
	first := r.register(req)
	if first.StatusCode != 200 {
		t.Fatalf("REGISTER: %d %s", first.StatusCode, first.Reason)
	}
	if e := <-events; e.Kind != event.Registered {
		t.Fatalf("event %+v, want registered", e)
	}
	before := r.Lookup("1000")

	again := r.register(req)
	if again.StatusCode != 200 || again.GetHeader("Contact") == nil ||
		again.GetHeader("Contact").Value() != first.GetHeader("Contact").Value() {
		t.Fatalf("retransmission answered %d %s %v, want the same 200", again.StatusCode, again.Reason, again.GetHeader("Contact"))
	}
	if after := r.Lookup("1000"); len(after) != 1 || after[0] != before[0] {
		t.Fatalf("a retransmission changed the binding: %+v → %+v", before, after)
	}
	select {
	case e := <-events:
		t.Fatalf("a retransmission published %+v", e)
	default:
	}

	req.CSeq().SeqNo += 5
	if res := r.register(req); res.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", res.StatusCode, res.Reason)
	}
	req.CSeq().SeqNo--
	if res := r.register(req); res.StatusCode != 500 {
		t.Fatalf("an older CSeq got %d, want 500", res.StatusCode)
	}
}

// A refresh that only moves the expiry later is written at the slow flush;
// anything else at the next one.
func TestRefreshIsWrittenLazily(t *testing.T) {
	r := benchRegistrar(t)
	pending := func(device string) (dirty, refreshed bool) {
		r.dirtyMu.Lock()
		defer r.dirtyMu.Unlock()
		_, dirty = r.dirty[device]
		_, refreshed = r.refreshed[device]
		return
	}
	stored := func(device string) time.Time {
		saved, err := r.persist.Bindings(time.Now())
		if err != nil || len(saved[device]) != 1 {
			t.Fatalf("stored bindings of %s: %v %v", device, saved[device], err)
		}
		return saved[device][0].Expires
	}
	req := authedRequests(t, r, 1)[0]
	if res := r.register(req); res.StatusCode != 200 {
		t.Fatalf("REGISTER: %d", res.StatusCode)
	}
	if d, _ := pending("1000"); !d {
		t.Fatal("a new binding is not written at the next flush")
	}
	r.flush(false)
	first := stored("1000")

	time.Sleep(10 * time.Millisecond)
	req.CSeq().SeqNo++
	r.register(req)
	if d, ref := pending("1000"); d || !ref {
		t.Fatalf("refresh: dirty %v, refreshed %v; want only refreshed", d, ref)
	}
	r.flush(false)
	if got := stored("1000"); !got.Equal(first) {
		t.Fatal("the quick flush wrote a mere refresh")
	}
	r.Flush()
	if got := stored("1000"); !got.After(first) {
		t.Fatal("Flush did not write the refresh")
	}

	req.CSeq().SeqNo++
	req.SetSource("127.0.0.1:6000") // the phone moved: calls must go to the new address
	r.register(req)
	if d, _ := pending("1000"); !d {
		t.Fatal("a binding from a new source is not written at the next flush")
	}
}
