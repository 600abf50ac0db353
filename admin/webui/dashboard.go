package webui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"switchboard/admin/webauth"
	"switchboard/store"
	"switchboard/switch/event"
)

// The office manager's Home: counts, the calls in progress and a graph of
// the last 24 hours, kept live over Server-Sent Events.

// dashState is what the dashboard shows live (and GET /api/dashboard answers).
type dashState struct {
	ActiveCalls       int            `json:"active_calls"`
	Users             int            `json:"users"`
	RegisteredDevices int            `json:"registered_devices"`
	Devices           int            `json:"devices"`
	Calls             []liveCallJSON `json:"calls"`
	GraphChanged      bool           `json:"graph_changed,omitempty"` // a call ended: fetch the graph again
}

type liveCallJSON struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	AnsweredBy string    `json:"answered_by,omitempty"`
	State      string    `json:"state"` // ringing or talking
	Since      time.Time `json:"since"` // start, or answer once talking
	SinceMS    int64     `json:"since_ms"`
}

func (a *App) dashState(ctx context.Context) (dashState, error) {
	var s dashState
	users, err := a.cfg.Ops.ListUsers(ctx)
	if err != nil {
		return s, err
	}
	for _, u := range users {
		if !u.System {
			s.Users++
			s.Devices += len(u.Devices)
		}
	}
	s.RegisteredDevices, _ = a.cfg.Reg.Counts()
	s.Calls = []liveCallJSON{}
	if a.cfg.Calls != nil {
		live := a.cfg.Calls.Active()
		slices.SortFunc(live, func(x, y LiveCall) int { return x.Start.Compare(y.Start) })
		for _, c := range live {
			j := liveCallJSON{ID: c.ID, From: c.From, To: c.To, AnsweredBy: c.AnsweredBy, State: "ringing", Since: c.Start}
			if !c.Answer.IsZero() {
				j.State, j.Since = "talking", c.Answer
			}
			j.SinceMS = j.Since.UnixMilli()
			s.Calls = append(s.Calls, j)
		}
	}
	s.ActiveCalls = len(s.Calls)
	return s, nil
}

// hourBucket is one hour of the graph.
type hourBucket struct {
	Hour     time.Time `json:"hour"`
	Calls    int       `json:"calls"`
	Answered int       `json:"answered"`
}

// callsPerHour counts the calls of the last 24 hours (this hour and the 23
// before it, in the office's time zone).
func (a *App) callsPerHour(loc *time.Location) ([]hourBucket, error) {
	now := a.now().In(loc)
	first := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, loc).Add(-23 * time.Hour)
	buckets := make([]hourBucket, 24)
	for i := range buckets {
		buckets[i].Hour = first.Add(time.Duration(i) * time.Hour)
	}
	err := eachCall(a.cfg.Store, first, now.Add(time.Minute), func(c store.CallRecord) bool {
		i := int(c.Start.Sub(first) / time.Hour)
		if i >= 0 && i < len(buckets) {
			buckets[i].Calls++
			if c.Disposition == store.Answered {
				buckets[i].Answered++
			}
		}
		return true
	})
	return buckets, err
}

// graph is the calls-per-hour chart as SVG shapes.
type graph struct {
	Width, Height int
	Bars          []graphBar
	Labels        []graphLabel
	Max           int
	MaxY          int
	BaseY         int
	Total         int
	Answered      int
}

type graphBar struct {
	X, W                 int
	Y, H                 int // all calls
	AnsweredY, AnsweredH int
	Title                string
}

type graphLabel struct {
	X    int
	Text string
}

func buildGraph(buckets []hourBucket) graph {
	const w, h, top, bottom, left = 720, 200, 16, 24, 28
	g := graph{Width: w, Height: h, BaseY: h - bottom, MaxY: top}
	for _, b := range buckets {
		g.Max = max(g.Max, b.Calls)
		g.Total += b.Calls
		g.Answered += b.Answered
	}
	scale := max(g.Max, 1)
	slot := (w - left) / len(buckets)
	for i, b := range buckets {
		x := left + i*slot
		bar := graphBar{X: x + 2, W: slot - 4}
		bar.H = b.Calls * (g.BaseY - top) / scale
		bar.Y = g.BaseY - bar.H
		bar.AnsweredH = b.Answered * (g.BaseY - top) / scale
		bar.AnsweredY = g.BaseY - bar.AnsweredH
		bar.Title = fmt.Sprintf("%s–%s: %d calls, %d answered", b.Hour.Format("15:04"), b.Hour.Add(time.Hour).Format("15:04"), b.Calls, b.Answered)
		g.Bars = append(g.Bars, bar)
		if i%3 == 0 {
			g.Labels = append(g.Labels, graphLabel{X: x + slot/2, Text: b.Hour.Format("15:04")})
		}
	}
	return g
}

type dashView struct {
	State dashState
	Graph graph
}

func (a *App) dashboard(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	s, err := a.dashState(r.Context())
	if err != nil {
		return err
	}
	buckets, err := a.callsPerHour(a.office())
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "dashboard", &view{Title: "Home", Login: l, Section: "org", Nav: "home",
		Data: dashView{State: s, Graph: buildGraph(buckets)}})
	return nil
}

func (a *App) dashboardGraph(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	buckets, err := a.callsPerHour(a.office())
	if err != nil {
		return err
	}
	return a.renderPart(w, "dashboard", "graph", buildGraph(buckets))
}

// dashboardEvents streams the dashboard's state whenever a call or a
// registration changes.
func (a *App) dashboardEvents(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ended := false
	return a.stream(w, r, l, func(ev event.Event) bool {
		if ev.Kind == event.CallEnded {
			ended = true
		}
		return true
	}, func() (string, any) {
		s, err := a.dashState(r.Context())
		if err != nil {
			a.log.Error("dashboard state", "err", err)
		}
		s.GraphChanged, ended = ended, false
		return "dashboard", s
	})
}

// apiDashboardRoutes: the dashboard's state and its event stream.
func (a *App) apiDashboardRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/dashboard", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		s, err := a.dashState(r.Context())
		if err != nil {
			return nil, err
		}
		hours, err := a.callsPerHour(a.office())
		return struct {
			dashState
			Hours []hourBucket `json:"calls_per_hour"`
		}{s, hours}, err
	}))
	m.HandleFunc("GET /api/events", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.dashboardEvents(w, r, l)
	}))
}
