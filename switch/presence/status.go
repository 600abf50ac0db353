package presence

import (
	"slices"
	"time"
)

// DialogState is where one of an extension's calls stands (RFC 4235 §3.7.1).
type DialogState int

const (
	Trying     DialogState = iota // dialling: the switch is routing the call
	Proceeding                    // in the RFC's set; the switch's calls go from trying to early
	Early                         // ringing (ours or the far end's)
	Confirmed                     // talking
	Terminated                    // over: sent once, then the dialog is gone
)

func (s DialogState) String() string {
	switch s {
	case Trying:
		return "trying"
	case Proceeding:
		return "proceeding"
	case Early:
		return "early"
	case Confirmed:
		return "confirmed"
	case Terminated:
		return "terminated"
	}
	return "unknown"
}

// Direction says who placed the call, seen from the extension.
type Direction int

const (
	Initiator Direction = iota // the extension called
	Recipient                  // the extension is called
)

func (d Direction) String() string {
	if d == Recipient {
		return "recipient"
	}
	return "initiator"
}

// Dialog is one call of an extension as BLF shows it.
type Dialog struct {
	ID         string // stable while the call lasts, unique among the extension's dialogs
	CallID     string // the extension's phone's Call-ID (only known when it called)
	Direction  Direction
	State      DialogState
	Remote     string // the other party: an extension or number
	RemoteName string // its display name, when known
	Start      time.Time
}

// Activity is an extension's state in one word, for lamps and lists.
type Activity int

const (
	Offline Activity = iota // no phone of the extension is registered and it has no call
	Idle                    // registered, no call
	Ringing                 // a phone of it rings
	OnCall                  // dialling or talking
)

// String is how the web UI and its API spell the activity.
func (a Activity) String() string {
	switch a {
	case Idle:
		return "online"
	case Ringing:
		return "ringing"
	case OnCall:
		return "on_call"
	}
	return "offline"
}

// Status is an extension's live state: registered or not, and its calls.
// It never changes once returned.
type Status struct {
	Ext     string
	Online  bool     // some device of the extension is registered
	Dialogs []Dialog // its calls, oldest first
}

// Activity sums the status up: talking or dialling wins over ringing,
// which wins over being merely registered.
func (s Status) Activity() Activity {
	ringing := false
	for _, d := range s.Dialogs {
		if d.State == Confirmed || d.Direction == Initiator {
			return OnCall
		}
		ringing = true
	}
	switch {
	case ringing:
		return Ringing
	case s.Online:
		return Idle
	}
	return Offline
}

// Status is ext's live state now.
func (s *Service) Status(ext string) Status {
	st := Status{Ext: ext, Online: s.online(ext), Dialogs: s.calls.dialogs(ext)}
	slices.SortFunc(st.Dialogs, func(a, b Dialog) int { return a.Start.Compare(b.Start) })
	return st
}

// online reports whether any device of ext holds a binding.
func (s *Service) online(ext string) bool {
	for _, d := range s.devicesOf(ext) {
		if len(s.deps.Locator.Lookup(d.ID)) > 0 {
			return true
		}
	}
	return false
}
