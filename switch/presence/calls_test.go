package presence

import (
	"slices"
	"testing"

	"switchboard/switch/event"
)

// office resolves devices "<ext>" and "<ext>b" to their extension.
type office struct{}

func (office) extOf(device string) string {
	if device == "" || device[0] < '0' || device[0] > '9' {
		return ""
	}
	return device[:3]
}

func (office) nameOf(ext string) string { return map[string]string{"200": "Alice", "201": "Bob"}[ext] }

// states is ext's dialogs as "id direction state remote" lines.
func states(b *callBoard, ext string) []string {
	var out []string
	for _, d := range b.dialogs(ext) {
		out = append(out, d.ID+" "+d.Direction.String()+" "+d.State.String()+" "+d.Remote+"/"+d.RemoteName)
	}
	slices.Sort(out)
	return out
}

func TestCallBoardForkedCall(t *testing.T) {
	b := newCallBoard()
	call := func(k event.Kind, device string) []string {
		return b.apply(event.Event{Kind: k, CallID: "c1", From: "200", To: "201", Device: device}, office{})
	}
	steps := []struct {
		kind    event.Kind
		device  string
		changed []string
		ext200  []string
		ext201  []string
	}{
		{event.CallStarted, "", []string{"200"}, []string{"call-1-i initiator trying 201/Bob"}, nil},
		{event.CallRinging, "201", []string{"200", "201"}, []string{"call-1-i initiator early 201/Bob"}, []string{"call-1-r recipient early 200/Alice"}},
		{event.CallRinging, "201b", []string{"200", "201"}, []string{"call-1-i initiator early 201/Bob"}, []string{"call-1-r recipient early 200/Alice"}},
		{event.CallRingStopped, "201", []string{"200", "201"}, []string{"call-1-i initiator early 201/Bob"}, []string{"call-1-r recipient early 200/Alice"}},
		{event.CallAnswered, "201b", []string{"200", "201"}, []string{"call-1-i initiator confirmed 201/Bob"}, []string{"call-1-r recipient confirmed 200/Alice"}},
		{event.CallRingStopped, "201", []string{"200", "201"}, []string{"call-1-i initiator confirmed 201/Bob"}, []string{"call-1-r recipient confirmed 200/Alice"}},
		{event.CallEnded, "201b", []string{"200", "201"}, nil, nil},
		{event.CallEnded, "201b", nil, nil, nil}, // twice: nothing left
	}
	for i, s := range steps {
		changed := call(s.kind, s.device)
		slices.Sort(changed)
		if !slices.Equal(changed, s.changed) || !slices.Equal(states(b, "200"), s.ext200) || !slices.Equal(states(b, "201"), s.ext201) {
			t.Fatalf("step %d (%s %s): changed %v, 200 %q, 201 %q", i, s.kind, s.device, changed, states(b, "200"), states(b, "201"))
		}
	}
}

func TestCallBoardMissedEvents(t *testing.T) {
	b := newCallBoard()
	// The start was dropped: the answer alone puts the call on the board.
	b.apply(event.Event{Kind: event.CallAnswered, CallID: "c1", From: "200", To: "201", Device: "201"}, office{})
	if got := states(b, "201"); len(got) != 1 {
		t.Fatalf("201 after a lone answer: %q", got)
	}
	// A call the switch answered itself (voicemail): the caller talks, nobody else.
	b.apply(event.Event{Kind: event.CallStarted, CallID: "c2", From: "202", To: "*97"}, office{})
	b.apply(event.Event{Kind: event.CallAnswered, CallID: "c2", From: "202", To: "*97"}, office{})
	if got := states(b, "202"); !slices.Equal(got, []string{"call-2-i initiator confirmed *97/"}) {
		t.Fatalf("202 in voicemail: %q", got)
	}
	// The end was dropped: pruning against the call manager clears it.
	changed := b.prune(func(id string) bool { return id == "c2" })
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"200", "201"}) || len(b.dialogs("201")) != 0 || len(b.dialogs("202")) != 1 {
		t.Fatalf("prune: changed %v, 201 %q, 202 %q", changed, states(b, "201"), states(b, "202"))
	}
	if b.apply(event.Event{Kind: event.CallRingStopped, CallID: "gone", Device: "201"}, office{}) != nil {
		t.Fatal("an unknown call's ring-stop changed something")
	}
}

// 200 calls 201, 201 transfers 200 to 202: 201 drops off the board and 200
// calls 202.
func TestCallBoardTransfer(t *testing.T) {
	b := newCallBoard()
	b.apply(event.Event{Kind: event.CallStarted, CallID: "c1", From: "200", To: "201"}, office{})
	b.apply(event.Event{Kind: event.CallAnswered, CallID: "c1", From: "200", To: "201", Device: "201"}, office{})
	changed := b.apply(event.Event{Kind: event.CallTransferred, CallID: "c1", From: "200", To: "202", Device: "201"}, office{})
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"200", "201"}) || states(b, "201") != nil ||
		!slices.Equal(states(b, "200"), []string{"call-1-i initiator trying 202/"}) {
		t.Fatalf("after transfer: changed %v, 200 %q, 201 %q", changed, states(b, "200"), states(b, "201"))
	}
	b.apply(event.Event{Kind: event.CallRinging, CallID: "c1", From: "200", To: "202", Device: "202"}, office{})
	if got := states(b, "202"); !slices.Equal(got, []string{"call-1-r recipient early 200/Alice"}) {
		t.Fatalf("target 202: %q", got)
	}
}
