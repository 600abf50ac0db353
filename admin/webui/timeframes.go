package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// Time Frames: the organisation's (office managers, under Manage
// Organization, with the office's time zone) and each user's own (My
// Account; they see the organisation's too, read only). Listing, adding,
// changing and deleting go through admin/control's time-frame operations,
// which check the frame with route.CheckTimeFrame and refuse to delete a
// frame a rule uses, naming the rule.

// FrameOperator is what the time-frame pages need of the operations.
type FrameOperator interface {
	ListTimeFrames(ctx context.Context, owner string) ([]control.TimeFrameView, error)
	AddTimeFrame(ctx context.Context, tf store.TimeFrame) (control.TimeFrameView, error)
	UpdateTimeFrame(ctx context.Context, tf store.TimeFrame) (control.TimeFrameView, error)
	RemoveTimeFrame(ctx context.Context, ref string) (control.TimeFrameView, error)
	TimeZone(ctx context.Context) (control.TimeZoneView, error)
	SetTimeZone(ctx context.Context, zone string) (control.TimeZoneView, error)
}

var _ FrameOperator = (*control.Local)(nil)

func (a *App) frameOps() (FrameOperator, error) {
	fo, ok := a.cfg.Ops.(FrameOperator)
	if !ok {
		return nil, errorf(http.StatusNotFound, "Time frames are not available.")
	}
	return fo, nil
}

// frameScope is whose frames a page manages: the organisation's (owner "")
// or one user's.
type frameScope struct {
	Section string // "org" or "me"
	Base    string // "/admin/timeframes" or "/me/timeframes"
	Owner   string // "" for the organisation
}

func orgFrames() frameScope { return frameScope{Section: "org", Base: "/admin/timeframes"} }
func myFrames(l *webauth.Login) frameScope {
	return frameScope{Section: "me", Base: "/me/timeframes", Owner: l.User.Ext}
}

// Days in the order the forms show them (Monday first), with time.Weekday numbers.
var formDays = []struct {
	N     int
	Short string
}{{1, "Mon"}, {2, "Tue"}, {3, "Wed"}, {4, "Thu"}, {5, "Fri"}, {6, "Sat"}, {0, "Sun"}}

// describeWeekly says a weekly range for people: "Mon–Fri 09:00–17:00".
func describeWeekly(w store.WeeklyRange) string {
	var parts []string
	for i := 0; i < len(formDays); {
		if !slices.Contains(w.Days, formDays[i].N) {
			i++
			continue
		}
		j := i
		for j+1 < len(formDays) && slices.Contains(w.Days, formDays[j+1].N) {
			j++
		}
		switch j - i {
		case 0:
			parts = append(parts, formDays[i].Short)
		case 1:
			parts = append(parts, formDays[i].Short, formDays[j].Short)
		default:
			parts = append(parts, formDays[i].Short+"–"+formDays[j].Short)
		}
		i = j + 1
	}
	return strings.Join(parts, ", ") + " " + describeTimes(w.Start, w.End)
}

func describeTimes(start, end string) string {
	switch {
	case start == "" && end == "", start == "00:00" && (end == "24:00" || end == "00:00"):
		return "all day"
	case end == "24:00" || end == "00:00":
		return start + " to midnight"
	case start > end:
		return start + "–" + end + " the next morning"
	case start == end:
		return "all day from " + start
	}
	return start + "–" + end
}

// describeDates says a date range for people: "Thu 24 Dec 2026 – Sat 26 Dec 2026, all day".
func describeDates(d store.DateRange) string {
	day := func(s string) string {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return s
		}
		return t.Format("Mon 2 Jan 2006")
	}
	out := day(d.From)
	if d.To != "" && d.To != d.From {
		out += " – " + day(d.To)
	}
	return out + ", " + describeTimes(d.Start, d.End)
}

// frameRow is a frame in a list.
type frameRow struct {
	ID, Name string
	Times    []string
	UsedBy   []usedBy
	Own      bool // the viewer may change it
}

type usedBy struct {
	Ext, Name, Rule string
	Link            string // the user's page, for office managers
}

// frameTableArgs is what the frame-table template shows.
type frameTableArgs struct {
	Rows     []frameRow
	Scope    frameScope
	ID       string
	Editable bool
	CSRF     string
}

type framesView struct {
	CSRF      string
	Scope     frameScope
	Own       []frameRow // the frames of this scope
	Org       []frameRow // the organisation's, read only (My Account)
	Zone      control.TimeZoneView
	ZoneLabel string // the zone in use, for people
	ZoneIn    string // the zone form's value
	Zones     []string
	Now       string
	Errors    map[string]string
	Error     string
}

func (a *App) frameRows(frames []control.TimeFrameView, own func(control.TimeFrameView) bool, viewer string) []frameRow {
	names := a.names()
	var out []frameRow
	for _, tf := range frames {
		r := frameRow{ID: tf.ID, Name: tf.Name, Own: own(tf)}
		for _, w := range tf.Weekly {
			r.Times = append(r.Times, describeWeekly(w))
		}
		for _, d := range tf.Dates {
			r.Times = append(r.Times, describeDates(d))
		}
		for _, u := range tf.UsedBy {
			if viewer != "" && u.Ext != viewer {
				continue // a user sees only their own rules
			}
			ub := usedBy{Ext: u.Ext, Name: names[u.Ext], Rule: u.Rule}
			if viewer == "" {
				ub.Link = "/admin/users/" + u.Ext
			}
			r.UsedBy = append(r.UsedBy, ub)
		}
		out = append(out, r)
	}
	return out
}

func (a *App) framesView(r *http.Request, l *webauth.Login, s frameScope) (framesView, error) {
	fo, err := a.frameOps()
	if err != nil {
		return framesView{}, err
	}
	frames, err := fo.ListTimeFrames(r.Context(), s.Owner)
	if err != nil {
		return framesView{}, err
	}
	zone, err := fo.TimeZone(r.Context())
	if err != nil {
		return framesView{}, err
	}
	v := framesView{CSRF: l.CSRF(), Scope: s, Zone: zone, ZoneLabel: zoneLabel(zone), ZoneIn: zone.Zone, Zones: commonZones,
		Now: zone.Now.Format("Mon 2 Jan 15:04")}
	viewer := s.Owner
	mine := func(tf control.TimeFrameView) bool { return tf.Owner == s.Owner }
	v.Own = a.frameRows(slices.DeleteFunc(slices.Clone(frames), func(tf control.TimeFrameView) bool { return !mine(tf) }), mine, viewer)
	if s.Owner != "" {
		v.Org = a.frameRows(slices.DeleteFunc(frames, func(tf control.TimeFrameView) bool { return tf.Owner != "" }), mine, viewer)
	}
	return v, nil
}

var framesFlash = map[string]string{
	"added": "The time frame is added.", "changed": "The time frame is changed: rules that use it follow the new times at once.",
	"deleted": "The time frame is deleted.", "zone": "The office's time zone is set: calls use it from now on.",
}

func (a *App) framesPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	s := scopeOf(r, l)
	v, err := a.framesView(r, l, s)
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "timeframes", &view{Title: "Time Frames", Login: l, Section: s.Section, Nav: "timeframes",
		Flash: framesFlash[r.URL.Query().Get("done")], Data: v})
	return nil
}

// scopeOf is the scope of a page under /me or /admin (or of the API under /api/me or not).
func scopeOf(r *http.Request, l *webauth.Login) frameScope {
	if strings.HasPrefix(r.URL.Path, "/admin/") || strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/api/me/") {
		return orgFrames()
	}
	return myFrames(l)
}

// framesFail shows the list again with what went wrong.
func (a *App) framesFail(w http.ResponseWriter, r *http.Request, l *webauth.Login, s frameScope, err error, zoneIn string) error {
	e := a.userError(r, err)
	if e.Status >= 500 {
		return e
	}
	v, verr := a.framesView(r, l, s)
	if verr != nil {
		return verr
	}
	v.Errors = e.Fields
	if len(e.Fields) == 0 {
		v.Error = e.Msg
	}
	if zoneIn != "" {
		v.ZoneIn = zoneIn
	}
	a.render(w, r, e.Status, "timeframes", &view{Title: "Time Frames", Login: l, Section: s.Section, Nav: "timeframes", Data: v})
	return nil
}

// frameOf returns a frame of the scope; any other frame is not found.
func (a *App) frameOf(s frameScope, id string) (store.TimeFrame, error) {
	tf, err := a.cfg.Store.TimeFrame(id)
	if errors.Is(err, store.ErrNotFound) || err == nil && tf.Owner != s.Owner {
		return store.TimeFrame{}, errorf(http.StatusNotFound, "There is no such time frame here.")
	}
	return tf, err
}

func (a *App) frameDelete(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	s := scopeOf(r, l)
	fo, err := a.frameOps()
	if err != nil {
		return err
	}
	tf, err := a.frameOf(s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := fo.RemoveTimeFrame(r.Context(), tf.ID); err != nil {
		return a.framesFail(w, r, l, s, err, "")
	}
	a.log.Info("web: time frame deleted", "frame", tf.ID, "by", l.User.Ext)
	http.Redirect(w, r, s.Base+"?done=deleted", http.StatusSeeOther)
	return nil
}

func (a *App) zoneSet(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	fo, err := a.frameOps()
	if err != nil {
		return err
	}
	zone := strings.TrimSpace(r.PostFormValue("zone"))
	if _, err := a.setZone(r.Context(), fo, zone); err != nil {
		return a.framesFail(w, r, l, orgFrames(), err, zone)
	}
	a.log.Info("web: time zone set", "zone", zone, "by", l.User.Ext)
	http.Redirect(w, r, "/admin/timeframes?done=zone", http.StatusSeeOther)
	return nil
}

func (a *App) setZone(ctx context.Context, fo FrameOperator, zone string) (control.TimeZoneView, error) {
	if zone == "" {
		return control.TimeZoneView{}, invalid(map[string]string{"zone": "Enter a time zone such as Europe/Berlin."})
	}
	v, err := fo.SetTimeZone(ctx, zone)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusBadRequest {
		return v, invalid(map[string]string{"zone": fmt.Sprintf("%q is not a time zone this system knows: pick one from the list, such as Europe/Berlin or America/New_York.", zone)})
	}
	return v, err
}

// zoneLabel names the zone in use: the setting, or the box's own with its offset.
func zoneLabel(z control.TimeZoneView) string {
	if z.Zone != "" {
		return z.Zone
	}
	return "the box's own zone (UTC" + z.Now.Format("-07:00") + ")"
}

// commonZones are offered in the time zone field; any IANA name works.
var commonZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Brussels", "Europe/Zurich", "Europe/Vienna", "Europe/Rome", "Europe/Madrid", "Europe/Stockholm",
	"Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest",
	"Europe/Athens", "Europe/Bucharest", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Vancouver", "America/Mexico_City",
	"America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"Africa/Casablanca", "Africa/Lagos", "Africa/Cairo", "Africa/Nairobi", "Africa/Johannesburg",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore",
	"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo", "Asia/Manila",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
	"Pacific/Auckland",
}

// frameJSON is a time frame in the API, with the rules that use it.
type frameJSON struct {
	store.TimeFrame
	UsedBy []control.RuleUse `json:"used_by"`
}

// frameJSONs keeps the frames of owner (all but other users' own when
// owner is "*"): a user sees only their own rules in used_by.
func frameJSONs(frames []control.TimeFrameView, keep func(store.TimeFrame) bool, viewer string) []frameJSON {
	out := []frameJSON{}
	for _, tf := range frames {
		if !keep(tf.TimeFrame) {
			continue
		}
		j := frameJSON{TimeFrame: tf.TimeFrame, UsedBy: []control.RuleUse{}}
		for _, u := range tf.UsedBy {
			if viewer == "" || u.Ext == viewer {
				j.UsedBy = append(j.UsedBy, u)
			}
		}
		out = append(out, j)
	}
	return out
}

// frameBody is what the API takes to create or change a frame.
type frameBody struct {
	Name   string              `json:"name"`
	Weekly []store.WeeklyRange `json:"weekly"`
	Dates  []store.DateRange   `json:"dates"`
}

func (a *App) apiFramesRoutes() {
	m := a.mux
	scoped := func(who audience, fn func(fo FrameOperator, s frameScope, r *http.Request, l *webauth.Login) (any, error)) http.HandlerFunc {
		return a.api(who, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
			fo, err := a.frameOps()
			if err != nil {
				return nil, err
			}
			return fn(fo, scopeOf(r, l), r, l)
		})
	}
	for _, p := range []struct {
		who  audience
		base string
	}{{admins, "/api/timeframes"}, {anyone, "/api/me/timeframes"}} {
		m.HandleFunc("GET "+p.base, scoped(p.who, func(fo FrameOperator, s frameScope, r *http.Request, l *webauth.Login) (any, error) {
			frames, err := fo.ListTimeFrames(r.Context(), s.Owner)
			if err != nil {
				return nil, err
			}
			if s.Owner == "" {
				return frameJSONs(frames, func(tf store.TimeFrame) bool { return tf.Owner == "" }, ""), nil
			}
			return frameJSONs(frames, func(store.TimeFrame) bool { return true }, s.Owner), nil
		}))
		m.HandleFunc("POST "+p.base, scoped(p.who, func(fo FrameOperator, s frameScope, r *http.Request, l *webauth.Login) (any, error) {
			var b frameBody
			if err := readJSON(r, &b); err != nil {
				return nil, err
			}
			v, err := fo.AddTimeFrame(r.Context(), store.TimeFrame{Name: b.Name, Owner: s.Owner, Weekly: b.Weekly, Dates: b.Dates})
			if err != nil {
				return nil, frameProblems(err)
			}
			return created{frameJSON{TimeFrame: v.TimeFrame, UsedBy: []control.RuleUse{}}}, nil
		}))
		m.HandleFunc("PUT "+p.base+"/{id}", scoped(p.who, func(fo FrameOperator, s frameScope, r *http.Request, l *webauth.Login) (any, error) {
			tf, err := a.frameOf(s, r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			var b frameBody
			if err := readJSON(r, &b); err != nil {
				return nil, err
			}
			v, err := fo.UpdateTimeFrame(r.Context(), store.TimeFrame{ID: tf.ID, Name: b.Name, Weekly: b.Weekly, Dates: b.Dates})
			if err != nil {
				return nil, frameProblems(err)
			}
			return frameJSONs([]control.TimeFrameView{v}, func(store.TimeFrame) bool { return true }, s.Owner)[0], nil
		}))
		m.HandleFunc("DELETE "+p.base+"/{id}", scoped(p.who, func(fo FrameOperator, s frameScope, r *http.Request, l *webauth.Login) (any, error) {
			tf, err := a.frameOf(s, r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			if _, err := fo.RemoveTimeFrame(r.Context(), tf.ID); err != nil {
				return nil, err
			}
			return map[string]string{"deleted": tf.ID}, nil
		}))
	}
	a.apiZoneRoutes()
}

// apiZoneRoutes: the office's time zone.
func (a *App) apiZoneRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/timezone", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		fo, err := a.frameOps()
		if err != nil {
			return nil, err
		}
		return fo.TimeZone(r.Context())
	}))
	m.HandleFunc("PUT /api/timezone", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		fo, err := a.frameOps()
		if err != nil {
			return nil, err
		}
		var req struct {
			Zone string `json:"zone"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		return a.setZone(r.Context(), fo, strings.TrimSpace(req.Zone))
	}))
}
