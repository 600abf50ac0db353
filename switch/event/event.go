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
	subs    map[int]*subscriber
	next    int
	dropped atomic.Uint64
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[int]*subscriber{}} }

// Publish delivers e to every subscriber that has room; a subscriber that
// fell behind misses it (counted in Dropped) rather than stalling the switch.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, s := range b.subs {
		if !s.add(e) {
			b.dropped.Add(1)
		}
	}
}

// Subscribe returns a channel of events, of which up to buf may wait for
// the reader, and a function that ends the subscription and closes the
// channel. The waiting events take memory only while they wait: a roomy
// buffer costs nothing while the switch is quiet.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) {
	s := &subscriber{max: buf, wake: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{}), exited: make(chan struct{})}
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = s
	b.mu.Unlock()
	go s.forward()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(s.done)
			<-s.exited // the channel is closed when this returns
		})
	}
}

// Dropped counts events subscribers missed because they were full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// subscriber queues a subscriber's events and hands them to its reader, in
// order, from one goroutine.
type subscriber struct {
	mu      sync.Mutex
	queue   []Event // waiting, oldest first
	pending int     // queued plus the one being handed over
	max     int

	wake   chan struct{} // something was queued
	out    chan Event
	done   chan struct{} // unsubscribed
	exited chan struct{}
}

func (s *subscriber) add(e Event) bool {
	s.mu.Lock()
	ok := s.pending < s.max
	if ok {
		s.queue = append(s.queue, e)
		s.pending++
	}
	s.mu.Unlock()
	if ok {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return ok
}

func (s *subscriber) forward() {
	defer close(s.exited)
	defer close(s.out)
	var batch []Event
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch, s.queue = s.queue, batch[:0]
		s.mu.Unlock()
		for i := range batch {
			select {
			case s.out <- batch[i]:
			case <-s.done:
				return
			}
			s.mu.Lock()
			s.pending--
			s.mu.Unlock()
		}
		clear(batch) // the strings it holds
		// A burst is over when the queue is empty: let its memory go.
		if cap(batch) > 64 {
			batch = nil
		}
		s.mu.Lock()
		if len(s.queue) == 0 && cap(s.queue) > 64 {
			s.queue = nil
		}
		s.mu.Unlock()
	}
}
