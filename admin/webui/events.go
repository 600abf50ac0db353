package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"switchboard/admin/webauth"
	"switchboard/switch/event"
)

// Server-Sent Events: a page subscribes to the switch's event bus through
// the app; events that matter to it mark the page's state stale, and the
// state is sent at most every coalesce interval (a burst of registrations
// is one update). A keep-alive comment goes out when nothing happens, and
// the state is sent again now and then in case the bus dropped an event
// for a slow reader.

var (
	coalesce  = 250 * time.Millisecond
	keepAlive = 20 * time.Second
	refresh   = time.Minute
)

// maxStreams is how many live-update streams one login keeps open at once
// (a page each; a few tabs). Each holds goroutines and a bus subscriber.
const maxStreams = 8

func (a *App) stream(w http.ResponseWriter, r *http.Request, l *webauth.Login, wants func(event.Event) bool, state func() (string, any)) error {
	if a.cfg.Events == nil {
		return errorf(http.StatusServiceUnavailable, "Live updates are not available.")
	}
	if !a.openStream(l.Token) {
		return errorf(http.StatusTooManyRequests, "Too many pages with live updates are open; close some.")
	}
	defer a.closeStream(l.Token)
	rc := http.NewResponseController(w)
	events, stop := a.cfg.Events.Subscribe(64)
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")

	send := func() error {
		name, v := state()
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(); err != nil {
		return nil // the browser went away
	}
	var due <-chan time.Time // set while an update is pending
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	again := time.NewTicker(refresh)
	defer again.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if wants(ev) && due == nil {
				due = time.After(coalesce)
			}
		case <-due:
			due = nil
			if send() != nil {
				return nil
			}
		case <-again.C:
			if send() != nil {
				return nil
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}

// openStream takes one of a login's stream places; false when all are taken.
func (a *App) openStream(token string) bool {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	if a.streams[token] >= maxStreams {
		return false
	}
	a.streams[token]++
	return true
}

func (a *App) closeStream(token string) {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	if a.streams[token]--; a.streams[token] <= 0 {
		delete(a.streams, token)
	}
}
