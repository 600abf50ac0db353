package presence

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"switchboard/switch/event"
)

// callBoard is every call in progress as BLF sees it, built from the call
// events on the bus: who called whom, which extensions' phones ring, who
// answered. Safe for concurrent use.
type callBoard struct {
	mu    sync.Mutex
	calls map[string]*liveCall // the caller's Call-ID → call
	seq   uint64
}

// liveCall is one call on the board.
type liveCall struct {
	seq        uint64 // names the call's dialogs
	id         string
	from       string // calling device or number, as the call event named it
	caller     string // its extension ("" when no device of ours called)
	callerName string
	callee     string // dialled extension or number
	calleeName string
	start      time.Time
	state      DialogState    // of the caller's dialog
	ringing    map[string]int // extension → its branches ringing now
	answered   string         // extension that took the call; "" none or the switch itself
}

// lookup resolves what call events name: the Service, or a fake in tests.
type lookup interface {
	extOf(device string) string // "" when no such device
	nameOf(ext string) string   // the user's display name, or ""
}

func newCallBoard() *callBoard { return &callBoard{calls: map[string]*liveCall{}} }

// apply takes one call event in and returns the extensions whose calls changed.
func (b *callBoard) apply(e event.Event, dir lookup) []string {
	if e.CallID == "" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.calls[e.CallID]
	if c == nil {
		if e.Kind == event.CallEnded || e.Kind == event.CallRingStopped {
			return nil
		}
		// Usually CallStarted; any later event of a call whose start was
		// missed (a full bus) starts it too.
		b.seq++
		c = &liveCall{seq: b.seq, id: e.CallID, from: e.From, caller: dir.extOf(e.From), callerName: e.FromName,
			callee: e.To, calleeName: dir.nameOf(e.To), start: e.Time, state: Trying, ringing: map[string]int{}}
		if c.callerName == "" && c.caller != "" {
			c.callerName = dir.nameOf(c.caller)
		}
		b.calls[e.CallID] = c
	}
	before := c.involved()
	switch e.Kind {
	case event.CallRinging:
		if c.state == Trying {
			c.state = Early
		}
		if ext := dir.extOf(e.Device); ext != "" {
			c.ringing[ext]++
		}
	case event.CallRingStopped:
		ext := dir.extOf(e.Device)
		if c.ringing[ext]--; c.ringing[ext] <= 0 {
			delete(c.ringing, ext)
		}
	case event.CallAnswered:
		c.state = Confirmed
		c.answered = dir.extOf(e.Device)
		clear(c.ringing) // the other phones are being cancelled
	case event.CallTransferred:
		// The transferor left; the transferee now waits for the target, as
		// if it had called it.
		c.from, c.caller, c.callerName = e.From, dir.extOf(e.From), e.FromName
		if c.callerName == "" && c.caller != "" {
			c.callerName = dir.nameOf(c.caller)
		}
		c.callee, c.calleeName = e.To, dir.nameOf(e.To)
		c.state, c.answered = Trying, ""
		clear(c.ringing)
	case event.CallEnded:
		delete(b.calls, e.CallID)
		return before
	}
	return union(before, c.involved())
}

// prune drops the calls live says are over (their CallEnded was missed)
// and returns the extensions that had them.
func (b *callBoard) prune(live func(callID string) bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var changed []string
	for id, c := range b.calls {
		if !live(id) {
			delete(b.calls, id)
			changed = union(changed, c.involved())
		}
	}
	return changed
}

// involved lists the extensions that see the call as a dialog.
func (c *liveCall) involved() []string {
	var out []string
	if c.caller != "" {
		out = append(out, c.caller)
	}
	if c.answered != "" {
		out = union(out, []string{c.answered})
	}
	for ext := range c.ringing {
		out = union(out, []string{ext})
	}
	return out
}

// dialogs are ext's calls as dialogs.
func (b *callBoard) dialogs(ext string) []Dialog {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Dialog
	for _, c := range b.calls {
		if c.caller == ext {
			out = append(out, Dialog{ID: c.dialogID('i'), CallID: c.id, Direction: Initiator, State: c.state,
				Remote: c.callee, RemoteName: c.calleeName, Start: c.start})
		}
		in := Dialog{ID: c.dialogID('r'), Direction: Recipient, Remote: cmp.Or(c.caller, c.from), RemoteName: c.callerName, Start: c.start}
		switch {
		case c.answered == ext:
			in.State = Confirmed
		case c.ringing[ext] > 0:
			in.State = Early
		default:
			continue
		}
		out = append(out, in)
	}
	return out
}

// dialogID names one side of the call: 'i' the caller's, 'r' a callee's.
func (c *liveCall) dialogID(side byte) string {
	return "call-" + strconv.FormatUint(c.seq, 10) + "-" + string(side)
}

// union appends the strings of b that a lacks.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
