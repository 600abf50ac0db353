package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
	"switchboard/switch/route"
)

// The time-frame form: a name, weekly ranges (day boxes, from, to) and
// dates or date ranges (from, to, optional times), one row each. Empty rows
// are left out; "More rows" shows the form again with room for more. Each
// row is checked on its own with route.CheckTimeFrame, so its message goes
// next to it; the frame as a whole is checked again by the operations.

// maxFrameRows bounds the rows of each kind one form may send.
const maxFrameRows = 30

type weeklyRow struct {
	Days       map[int]bool
	Start, End string
	Error      string
}

type dateRow struct {
	From, To, Start, End string
	Error                string
}

type frameForm struct {
	CSRF   string
	Scope  frameScope
	ID     string // "" for a new frame
	Name   string
	Weekly []weeklyRow
	Dates  []dateRow
	Days   []struct {
		N     int
		Short string
	}
	Errors map[string]string // name, times
	UsedBy []usedBy
	Zone   string
}

func formOf(tf store.TimeFrame) frameForm {
	f := frameForm{ID: tf.ID, Name: tf.Name}
	for _, w := range tf.Weekly {
		row := weeklyRow{Days: map[int]bool{}, Start: w.Start, End: w.End}
		for _, d := range w.Days {
			row.Days[d] = true
		}
		if w.Start == "00:00" && w.End == "24:00" {
			row.Start, row.End = "", "" // the whole day
		}
		if row.End == "24:00" {
			row.End = "00:00"
		}
		f.Weekly = append(f.Weekly, row)
	}
	for _, d := range tf.Dates {
		f.Dates = append(f.Dates, dateRow{From: d.From, To: d.To, Start: d.Start, End: d.End})
	}
	return f
}

// hhmm reads a time field: "09:00" (a browser may add ":00" seconds).
func hhmm(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 8 && strings.HasSuffix(s, ":00") {
		s = s[:5]
	}
	return s
}

// readFrameForm reads the form's rows (rows with nothing in them are left out).
func readFrameForm(r *http.Request) frameForm {
	f := frameForm{Name: strings.TrimSpace(r.PostFormValue("name"))}
	rows := func(key string) int {
		n, _ := strconv.Atoi(r.PostFormValue(key))
		return min(max(n, 0), maxFrameRows)
	}
	for i := range rows("weekly_rows") {
		p := fmt.Sprintf("w%d_", i)
		row := weeklyRow{Days: map[int]bool{}, Start: hhmm(r.PostFormValue(p + "start")), End: hhmm(r.PostFormValue(p + "end"))}
		for _, v := range r.PostForm[p+"days"] {
			if d, err := strconv.Atoi(v); err == nil && d >= 0 && d <= 6 {
				row.Days[d] = true
			}
		}
		if len(row.Days) > 0 || row.Start != "" || row.End != "" {
			f.Weekly = append(f.Weekly, row)
		}
	}
	for i := range rows("date_rows") {
		p := fmt.Sprintf("d%d_", i)
		row := dateRow{From: strings.TrimSpace(r.PostFormValue(p + "from")), To: strings.TrimSpace(r.PostFormValue(p + "to")),
			Start: hhmm(r.PostFormValue(p + "start")), End: hhmm(r.PostFormValue(p + "end"))}
		if row.From != "" || row.To != "" || row.Start != "" || row.End != "" {
			f.Dates = append(f.Dates, row)
		}
	}
	return f
}

// frame turns the form into a time frame, checking each row; the rows'
// messages are set on f.
func (f *frameForm) frame() (store.TimeFrame, bool) {
	tf := store.TimeFrame{ID: f.ID, Name: f.Name}
	ok := true
	for i := range f.Weekly {
		row := &f.Weekly[i]
		w := store.WeeklyRange{Start: row.Start, End: row.End}
		for _, d := range formDays {
			if row.Days[d.N] {
				w.Days = append(w.Days, d.N)
			}
		}
		slices.Sort(w.Days)
		switch {
		case w.Start == "" && w.End == "":
			w.Start, w.End = "00:00", "24:00" // the whole day
		case w.End == "00:00":
			w.End = "24:00" // until midnight
		}
		if len(w.Days) == 0 {
			row.Error, ok = "Tick at least one day.", false
		} else if err := route.CheckTimeFrame(store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{w}}); err != nil {
			row.Error, ok = rowMessage(err, w.Start, w.End), false
		}
		tf.Weekly = append(tf.Weekly, w)
	}
	for i := range f.Dates {
		row := &f.Dates[i]
		d := store.DateRange{From: row.From, To: row.To, Start: row.Start, End: row.End}
		if d.To == d.From {
			d.To = ""
		}
		if d.End == "00:00" && d.Start != "" {
			d.End = "24:00"
		}
		switch {
		case d.From == "":
			row.Error, ok = "Enter the date (or the first date of the range).", false
		case (d.Start == "") != (d.End == ""):
			row.Error, ok = "Enter both times, or neither for the whole day.", false
		default:
			if err := route.CheckTimeFrame(store.TimeFrame{Name: "x", Dates: []store.DateRange{d}}); err != nil {
				row.Error, ok = rowMessage(err, d.Start, d.End), false
			}
		}
		tf.Dates = append(tf.Dates, d)
	}
	return tf, ok
}

// rowMessage is route's message about one range, for the row it is next to.
func rowMessage(err error, start, end string) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && (strings.HasPrefix(msg, "weekly range") || strings.HasPrefix(msg, "date ")) {
		msg = msg[i+2:]
	}
	if strings.Contains(msg, "is not a time") {
		return "Enter the times as hours and minutes, such as 09:00 and 17:00."
	}
	return sentence(msg)
}

// frameProblems ties the operations' message about a frame to its field.
func frameProblems(err error) error {
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest && ce.Status != http.StatusConflict {
		return err
	}
	switch msg := ce.Message; {
	case strings.Contains(msg, "name"):
		return invalid(map[string]string{"name": sentence(msg)})
	case strings.Contains(msg, "has no times"):
		return invalid(map[string]string{"times": "Add at least one weekly range or one date."})
	case strings.HasPrefix(msg, "weekly range"), strings.HasPrefix(msg, "date "):
		return invalid(map[string]string{"times": sentence(msg)})
	}
	return err
}

func (a *App) renderFrameForm(w http.ResponseWriter, r *http.Request, l *webauth.Login, status int, f frameForm) {
	f.CSRF, f.Days = l.CSRF(), formDays
	if len(f.Weekly) == 0 || rowFilled(f.Weekly[len(f.Weekly)-1]) && len(f.Weekly) < maxFrameRows {
		f.Weekly = append(f.Weekly, weeklyRow{Days: map[int]bool{}})
	}
	if len(f.Dates) == 0 || f.Dates[len(f.Dates)-1].From != "" && len(f.Dates) < maxFrameRows {
		f.Dates = append(f.Dates, dateRow{})
	}
	if fo, err := a.frameOps(); err == nil {
		if zone, err := fo.TimeZone(r.Context()); err == nil {
			f.Zone = zoneLabel(zone)
		}
	}
	title := "New time frame"
	if f.ID != "" {
		title = "Time frame " + f.Name
	}
	a.render(w, r, status, "timeframe", &view{Title: title, Login: l, Section: f.Scope.Section, Nav: "timeframes", Data: f})
}

func rowFilled(w weeklyRow) bool { return len(w.Days) > 0 || w.Start != "" || w.End != "" }

func (a *App) frameNewPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if _, err := a.frameOps(); err != nil {
		return err
	}
	f := frameForm{Scope: scopeOf(r, l)}
	f.Weekly = []weeklyRow{{Days: map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}, Start: "09:00", End: "17:00"}}
	a.renderFrameForm(w, r, l, http.StatusOK, f)
	return nil
}

func (a *App) frameEditPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	fo, err := a.frameOps()
	if err != nil {
		return err
	}
	s := scopeOf(r, l)
	tf, err := a.frameOf(s, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := formOf(tf)
	f.Scope = s
	f.UsedBy = a.usedByOf(r, fo, s, tf.ID)
	a.renderFrameForm(w, r, l, http.StatusOK, f)
	return nil
}

// usedByOf lists the rules that use a frame (a user's own only, on My Account).
func (a *App) usedByOf(r *http.Request, fo FrameOperator, s frameScope, id string) []usedBy {
	frames, err := fo.ListTimeFrames(r.Context(), s.Owner)
	if err != nil {
		return nil
	}
	for _, tf := range frames {
		if tf.ID == id {
			rows := a.frameRows([]control.TimeFrameView{tf}, func(control.TimeFrameView) bool { return true }, s.Owner)
			return rows[0].UsedBy
		}
	}
	return nil
}

// frameSave creates (POST base) or changes (POST base/{id}) a frame.
func (a *App) frameSave(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	fo, err := a.frameOps()
	if err != nil {
		return err
	}
	s := scopeOf(r, l)
	f := readFrameForm(r)
	f.Scope = s
	if id := r.PathValue("id"); id != "" {
		old, err := a.frameOf(s, id)
		if err != nil {
			return err
		}
		f.ID = old.ID
		f.UsedBy = a.usedByOf(r, fo, s, old.ID)
	}
	if r.PostFormValue("more") != "" { // room for more rows, nothing saved
		for range 2 {
			f.Weekly = append(f.Weekly, weeklyRow{Days: map[int]bool{}})
			f.Dates = append(f.Dates, dateRow{})
		}
		f.Weekly, f.Dates = f.Weekly[:min(len(f.Weekly), maxFrameRows)], f.Dates[:min(len(f.Dates), maxFrameRows)]
		a.renderFrameForm(w, r, l, http.StatusOK, f)
		return nil
	}
	tf, ok := f.frame()
	f.Errors = map[string]string{}
	if f.Name == "" {
		f.Errors["name"], ok = "Give the time frame a name, such as Office hours or Holidays.", false
	}
	if len(tf.Weekly) == 0 && len(tf.Dates) == 0 {
		f.Errors["times"], ok = "Add at least one weekly range or one date.", false
	}
	if !ok {
		a.renderFrameForm(w, r, l, http.StatusBadRequest, f)
		return nil
	}
	tf.Owner = s.Owner
	done := "added"
	if f.ID == "" {
		_, err = fo.AddTimeFrame(r.Context(), tf)
	} else {
		_, err = fo.UpdateTimeFrame(r.Context(), tf)
		done = "changed"
	}
	if err != nil {
		e := a.userError(r, frameProblems(err))
		if e.Status >= 500 {
			return e
		}
		f.Errors = e.Fields
		if len(e.Fields) == 0 {
			f.Errors = map[string]string{"times": e.Msg}
		}
		a.renderFrameForm(w, r, l, e.Status, f)
		return nil
	}
	a.log.Info("web: time frame saved", "frame", tf.Name, "owner", s.Owner, "by", l.User.Ext, "done", done)
	http.Redirect(w, r, s.Base+"?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}
