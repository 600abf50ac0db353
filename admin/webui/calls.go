package webui

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/store"
)

// The call history: a filter over the store's time-ordered call records,
// shared by the office manager's view (all calls), a user's own view and
// their CSV exports.

// callFilter selects calls: whole days in the office's time zone, and
// optionally an extension that took part and a disposition.
type callFilter struct {
	FromDay, ToDay string // YYYY-MM-DD as shown in the form
	Ext            string
	Disposition    store.Disposition
	Page           int // 1-based

	since, until time.Time // [since, until)
}

const callsPerPage = 50

var (
	dayLayout   = "2006-01-02"
	extFilterRe = regexp.MustCompile(`^[0-9]{2,7}$`)
	// dispositions in the order the filter offers them.
	dispositions = []store.Disposition{store.Answered, store.Missed, store.Busy, store.Cancelled, store.Voicemail, store.Failed}
)

// parseCallFilter reads a filter from a query; problems are per field.
// The default is the last 7 days.
func parseCallFilter(q url.Values, loc *time.Location, now time.Time) (callFilter, map[string]string) {
	f := callFilter{FromDay: strings.TrimSpace(q.Get("from")), ToDay: strings.TrimSpace(q.Get("to")),
		Ext: strings.TrimSpace(q.Get("ext")), Disposition: store.Disposition(strings.TrimSpace(q.Get("disposition"))), Page: 1}
	probs := map[string]string{}
	today := now.In(loc)
	if f.ToDay == "" {
		f.ToDay = today.Format(dayLayout)
	}
	if f.FromDay == "" {
		f.FromDay = today.AddDate(0, 0, -6).Format(dayLayout)
	}
	from, err := time.ParseInLocation(dayLayout, f.FromDay, loc)
	if err != nil {
		probs["from"] = "Enter a date such as " + today.Format(dayLayout) + "."
	}
	to, err := time.ParseInLocation(dayLayout, f.ToDay, loc)
	if err != nil {
		probs["to"] = "Enter a date such as " + today.Format(dayLayout) + "."
	}
	if probs["from"] == "" && probs["to"] == "" && to.Before(from) {
		probs["to"] = "The end date is before the start date."
	}
	f.since, f.until = from, to.AddDate(0, 0, 1)
	if f.Ext != "" && !extFilterRe.MatchString(f.Ext) {
		probs["ext"] = "Enter an extension such as 200, or leave it empty for all."
	}
	if f.Disposition != "" && !slices.Contains(dispositions, f.Disposition) {
		probs["disposition"] = "Choose a result from the list."
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			probs["page"] = "The page number is not valid."
		} else {
			f.Page = n
		}
	}
	return f, probs
}

// query is the filter as URL parameters (for paging and export links).
func (f callFilter) query(page int) string {
	v := url.Values{"from": {f.FromDay}, "to": {f.ToDay}}
	if f.Ext != "" {
		v.Set("ext", f.Ext)
	}
	if f.Disposition != "" {
		v.Set("disposition", string(f.Disposition))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// deviceExt is the extension of a device id ("200b" → "200").
func deviceExt(id string) string {
	return strings.TrimRightFunc(id, func(r rune) bool { return r < '0' || r > '9' })
}

// involves reports whether ext took part in a call: it called (from any of
// its phones), was dialled, one of its phones answered, or the call was
// transferred to it.
func involves(c store.CallRecord, ext string) bool {
	if c.Caller == ext || c.Callee == ext || deviceExt(c.CallerDevice) == ext ||
		(c.AnsweredBy != "" && deviceExt(c.AnsweredBy) == ext) {
		return true
	}
	for _, t := range c.Transfers {
		if t.To == ext {
			return true
		}
	}
	return false
}

func (f callFilter) match(c store.CallRecord) bool {
	return (f.Ext == "" || involves(c, f.Ext)) && (f.Disposition == "" || c.Disposition == f.Disposition)
}

// callChunk is how many records one read transaction takes: exports of a
// year of calls never hold the store's read lock for long.
const callChunk = 500

// eachCall calls fn with every call that started in [since, until),
// newest first, until fn returns false. It reads the store in chunks.
func eachCall(st *store.Store, since, until time.Time, fn func(store.CallRecord) bool) error {
	seen := map[string]bool{} // ids at the chunk boundary's start time
	for {
		recs, err := st.Calls(since, until, callChunk)
		if err != nil {
			return err
		}
		fresh := 0
		for _, c := range recs {
			if seen[c.ID] && c.Start.Equal(until.Add(-time.Nanosecond)) {
				continue
			}
			fresh++
			if !fn(c) {
				return nil
			}
		}
		if len(recs) < callChunk {
			return nil
		}
		if fresh == 0 {
			return fmt.Errorf("more than %d calls started at %v", callChunk, recs[0].Start)
		}
		// Go on below the oldest record of this chunk, including its start
		// time: records sharing it may have been cut off.
		last := recs[len(recs)-1].Start
		clear(seen)
		for _, c := range recs {
			if c.Start.Equal(last) {
				seen[c.ID] = true
			}
		}
		until = last.Add(time.Nanosecond)
	}
}

// callPage is one page of a filtered history.
type callPage struct {
	Calls []store.CallRecord
	Total int
}

func findCalls(st *store.Store, f callFilter) (callPage, error) {
	var p callPage
	skip := (f.Page - 1) * callsPerPage
	err := eachCall(st, f.since, f.until, func(c store.CallRecord) bool {
		if !f.match(c) {
			return true
		}
		if p.Total >= skip && len(p.Calls) < callsPerPage {
			p.Calls = append(p.Calls, c)
		}
		p.Total++
		return true
	})
	return p, err
}

// callRow is a call as the pages show it.
type callRow struct {
	Day, Time   string
	From        string
	FromName    string
	To          string
	AnsweredBy  string
	Duration    string
	Direction   string
	Disposition string
	Answered    bool
	Cause       string
	Outgoing    bool // from the extension whose history this is
}

func callRows(calls []store.CallRecord, loc *time.Location, ownExt string) []callRow {
	out := make([]callRow, 0, len(calls))
	for _, c := range calls {
		start := c.Start.In(loc)
		r := callRow{Day: start.Format("Mon 2 Jan 2006"), Time: start.Format("15:04:05"), From: c.Caller, FromName: c.CallerName,
			To: c.Callee, AnsweredBy: c.AnsweredBy, Direction: string(c.Direction), Disposition: string(c.Disposition),
			Answered: c.Disposition == store.Answered, Cause: c.Cause}
		if d := c.Duration(); d > 0 || c.Disposition == store.Answered {
			r.Duration = formatDuration(d)
		}
		if ownExt != "" {
			r.Outgoing = c.Caller == ownExt || deviceExt(c.CallerDevice) == ownExt
		}
		out = append(out, r)
	}
	return out
}

// formatDuration shows 75 s as "1:15" and 3725 s as "1:02:05".
func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// callJSON is a call in the API.
type callJSON struct {
	ID          string    `json:"id"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer,omitzero"`
	End         time.Time `json:"end"`
	DurationS   int       `json:"duration_s"`
	From        string    `json:"from"`
	FromName    string    `json:"from_name,omitempty"`
	To          string    `json:"to"`
	Direction   string    `json:"direction"`
	Disposition string    `json:"disposition"`
	AnsweredBy  string    `json:"answered_by,omitempty"`
	Cause       string    `json:"cause"`
}

// callsJSON is one page of calls in the API.
type callsJSON struct {
	Calls   []callJSON `json:"calls"`
	Total   int        `json:"total"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	From    string     `json:"from"`
	To      string     `json:"to"`
}

func toCallsJSON(p callPage, f callFilter, loc *time.Location) callsJSON {
	out := callsJSON{Calls: []callJSON{}, Total: p.Total, Page: f.Page, PerPage: callsPerPage, From: f.FromDay, To: f.ToDay}
	for _, c := range p.Calls {
		j := callJSON{ID: c.ID, Start: c.Start.In(loc), End: c.End.In(loc), DurationS: int(c.Duration().Round(time.Second).Seconds()),
			From: c.Caller, FromName: c.CallerName, To: c.Callee, Direction: string(c.Direction), Disposition: string(c.Disposition),
			AnsweredBy: c.AnsweredBy, Cause: c.Cause}
		if !c.Answer.IsZero() {
			j.Answer = c.Answer.In(loc)
		}
		out.Calls = append(out.Calls, j)
	}
	return out
}
