// Package event is the in-process event bus: the switch publishes what
// happens (a device registered, a call started) and presence, the admin live
// views and metrics subscribe. Publishing never blocks the switch.
package event

import (
	"sync"
	"sync/atomic"
	"time"
)

// Kind says what happened.
type Kind int

const (
	Registered      Kind = iota + 1 // a new binding for a device
	Unregistered                    // a device removed a binding (Expires: 0 or *)
	Expired                         // a binding timed out
	CallStarted                     // an authenticated INVITE is being routed
	CallRinging                     // a callee's phone rings (once per ringing device)
	CallAnswered                    // a callee, or the switch itself (Device ""), answered
	CallEnded                       // the call is over (its record is stored)
	CallRingStopped                 // a callee's phone stopped ringing without taking the call
	StatusChanged                   // an extension's live state changed (presence: Ext)
	// CallTransferred: Device left the call by transferring it; the call goes
	// on between From (the transferee) and To (the target, which rings next).
	CallTransferred
)

func (k Kind) String() string {
	switch k {
	case Registered:
		return "registered"
	case Unregistered:
		return "unregistered"
	case Expired:
		return "expired"
	case CallStarted:
		return "call-started"
	case CallRinging:
		return "call-ringing"
	case CallAnswered:
		return "call-answered"
	case CallEnded:
		return "call-ended"
	case CallRingStopped:
		return "call-ring-stopped"
	case StatusChanged:
		return "status-changed"
	case CallTransferred:
		return "call-transferred"
	}
	return "unknown"
}

// Event is one thing that happened.
type Event struct {
	Kind      Kind
	Time      time.Time
	Device    string // device id, e.g. "200b"
	Contact   string
	Source    string // ip:port
	Transport string
	UserAgent string

	// Call events.
	CallID   string // the caller's Call-ID
	From     string // calling device (after a transfer: the transferee's)
	FromName string // the caller's display name, if it sent one
	To       string // dialled extension (after a transfer: the target)

	Ext string // StatusChanged: the extension
}

// Bus fans events out to subscribers. The zero value is not usable; use New.
type Bus struct {
	mu      sync.RWMutex
	subs    map[int]chan Event
	next    int
	dropped atomic.Uint64
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[int]chan Event{}} }

// Publish delivers e to every subscriber that has room; a subscriber that
// fell behind misses it (counted in Dropped) rather than stalling the switch.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscribe returns a channel of events buffered for buf, and a function
// that ends the subscription and closes the channel.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, buf)
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Dropped counts events subscribers missed because they were full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }
