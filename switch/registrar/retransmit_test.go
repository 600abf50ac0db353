package registrar

import (
	"testing"

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
