package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
// A new one beyond it ends the login's oldest: that may be a tab whose
// network went away unnoticed, and a browser does not retry a refused one.
const maxStreams = 8

func (a *App) stream(w http.ResponseWriter, r *http.Request, l *webauth.Login, wants func(event.Event) bool, state func() (string, any)) error {
	if a.cfg.Events == nil {
		return errorf(http.StatusServiceUnavailable, "Live updates are not available.")
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	slot := &streamSlot{end: cancel}
	a.openStream(l.Token, slot)
	defer a.closeStream(l.Token, slot)
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
		case <-ctx.Done():
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

// streamSlot is one open live-update stream; end stops it.
type streamSlot struct{ end func() }

// openStream counts a login's new stream, ending its oldest beyond maxStreams.
func (a *App) openStream(token string, s *streamSlot) {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	open := append(a.streams[token], s)
	if len(open) > maxStreams {
		open[0].end()
		open = open[1:]
	}
	a.streams[token] = open
}

func (a *App) closeStream(token string, s *streamSlot) {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	open := slices.DeleteFunc(a.streams[token], func(o *streamSlot) bool { return o == s })
	if len(open) == 0 {
		delete(a.streams, token)
	} else {
		a.streams[token] = open
	}
}
