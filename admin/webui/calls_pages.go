package webui

import (
	"net/http"

	"switchboard/admin/webauth"
)

// callsView is a call-history page.
type callsView struct {
	Filter       callFilter
	Errors       map[string]string
	Rows         []callRow
	Total        int
	First, Last  int // positions shown (1-based)
	Prev, Next   string
	CSV          string
	Action       string // the page's own path
	Own          bool   // a user's own history (no extension filter)
	Dispositions []string
}

func (a *App) callsView(r *http.Request, path, ownExt string) (callsView, int, error) {
	loc := a.office()
	f, probs := parseCallFilter(r.URL.Query(), loc, a.now())
	if ownExt != "" {
		f.Ext = ownExt
	}
	v := callsView{Filter: f, Errors: probs, Action: path, Own: ownExt != ""}
	for _, d := range dispositions {
		v.Dispositions = append(v.Dispositions, string(d))
	}
	if ownExt != "" {
		v.Filter.Ext = "" // not shown in the form
	}
	if len(probs) > 0 {
		return v, http.StatusBadRequest, nil
	}
	p, err := findCalls(a.cfg.Store, f)
	if err != nil {
		return v, 0, err
	}
	v.Rows, v.Total = callRows(p.Calls, loc, ownExt), p.Total
	if len(p.Calls) > 0 {
		v.First = (f.Page-1)*callsPerPage + 1
		v.Last = v.First + len(p.Calls) - 1
	}
	q := v.Filter
	if f.Page > 1 {
		v.Prev = path + "?" + q.query(f.Page-1)
	}
	if v.Last < p.Total {
		v.Next = path + "?" + q.query(f.Page+1)
	}
	v.CSV = path + ".csv?" + q.query(1)
	return v, http.StatusOK, nil
}

func (a *App) adminCalls(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, status, err := a.callsView(r, "/admin/calls", "")
	if err != nil {
		return err
	}
	a.render(w, r, status, "calls", &view{Title: "Call History", Login: l, Section: "org", Nav: "calls", Data: v})
	return nil
}

func (a *App) adminCallsCSV(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	f, probs := parseCallFilter(r.URL.Query(), a.office(), a.now())
	if len(probs) > 0 {
		return invalid(probs)
	}
	return a.writeCallsCSV(w, f, "calls")
}
