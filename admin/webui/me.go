package webui

import (
	"net/http"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/switch/event"
)

// My Account: every user's own view (an office manager switches to it).

type meHomeView struct {
	Ext         string
	NewMessages int
	Online      int
	Phones      int
	Recent      []callRow
	RecentTotal int
	Now         string // what calls to the user do now, for people
	Plan        string // as the switch would route one
}

// recentDays is how far back the home page looks for recent calls.
const recentDays = 30

func (a *App) meHome(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	devs, err := a.devicesOf(r.Context(), l.User.Ext)
	if err != nil {
		return err
	}
	v := meHomeView{Ext: l.User.Ext, Phones: len(devs), NewMessages: a.newMessages(l.User.Ext)}
	for _, d := range devs {
		if len(d.Bindings) > 0 {
			v.Online++
		}
	}
	loc := a.office()
	now := a.now()
	f := callFilter{Ext: l.User.Ext, Page: 1, since: now.AddDate(0, 0, -recentDays), until: now.Add(time.Minute)}
	p, err := findCalls(a.cfg.Store, f)
	if err != nil {
		return err
	}
	if len(p.Calls) > 8 {
		p.Calls = p.Calls[:8]
	}
	v.Recent, v.RecentTotal = callRows(p.Calls, loc, l.User.Ext), p.Total
	if ro, err := a.rules(); err == nil {
		h, err := ro.CallHandling(r.Context(), l.User.Ext, "")
		if err != nil {
			return err
		}
		v.Now, v.Plan = handlingSummary(h), h.Plan
	}
	a.render(w, r, http.StatusOK, "me", &view{Title: "Home", Login: l, Section: "me", Nav: "home", Data: v})
	return nil
}

// handlingSummary says which answering rule applies now.
func handlingSummary(h control.HandlingView) string {
	switch {
	case h.Override == "dnd":
		return "Do not disturb is on."
	case h.Override == "forward":
		return "All calls are forwarded to " + h.ForwardTo + "."
	}
	for _, r := range h.Rules {
		if r.Number == h.Active {
			return "Your rule “" + r.Name + "” applies."
		}
	}
	return "No rule of yours applies: the usual handling."
}

// phonesView is the user's Phones page (and its live-updated table).
type phonesView struct {
	Ext     string
	Devices []deviceRow
	Online  int
}

func (a *App) phonesView(r *http.Request, l *webauth.Login) (phonesView, error) {
	devs, err := a.devicesOf(r.Context(), l.User.Ext)
	if err != nil {
		return phonesView{}, err
	}
	v := phonesView{Ext: l.User.Ext, Devices: deviceRows(devs, a.office())}
	for _, d := range v.Devices {
		if d.Online {
			v.Online++
		}
	}
	return v, nil
}

func (a *App) mePhones(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, err := a.phonesView(r, l)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("partial") == "1" {
		return a.renderPart(w, "phones", "phones-table", v)
	}
	a.render(w, r, http.StatusOK, "phones", &view{Title: "Phones", Login: l, Section: "me", Nav: "phones", Data: v})
	return nil
}

func (a *App) meCalls(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, status, err := a.callsView(r, "/me/calls", l.User.Ext)
	if err != nil {
		return err
	}
	a.render(w, r, status, "calls", &view{Title: "Call History", Login: l, Section: "me", Nav: "calls", Data: v})
	return nil
}

func (a *App) meCallsCSV(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	f, probs := parseCallFilter(r.URL.Query(), a.office(), a.now())
	if len(probs) > 0 {
		return invalid(probs)
	}
	f.Ext = l.User.Ext
	return a.writeCallsCSV(w, f, "my-calls")
}

// meEvents tells the Phones page when one of the user's phones registers,
// unregisters or expires; the page then fetches its table again.
func (a *App) meEvents(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ext := l.User.Ext
	return a.stream(w, r, l, func(ev event.Event) bool {
		switch ev.Kind {
		case event.Registered, event.Unregistered, event.Expired:
			return deviceExt(ev.Device) == ext
		}
		return false
	}, func() (string, any) { return "devices", map[string]string{"ext": ext} })
}
