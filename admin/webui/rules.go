package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// Answering rules ("calls to me") of the logged-in user: do not disturb,
// forwarding, and the ordered rules, through admin/control's rule
// operations (the same as `switchboard rule …`, `dnd`, `forward`).

// RuleOperator is what the rules page needs of the operations.
type RuleOperator interface {
	CallHandling(ctx context.Context, ext, at string) (control.HandlingView, error)
	AddRule(ctx context.Context, ext string, spec control.RuleSpec) (control.RuleResult, error)
	RemoveRule(ctx context.Context, ext, ref string) (control.RuleResult, error)
	SetRuleEnabled(ctx context.Context, ext, ref string, enabled bool) (control.RuleResult, error)
	MoveRule(ctx context.Context, ext, ref string, to int) (control.RuleResult, error)
	SetDND(ctx context.Context, ext string, on bool) (control.HandlingView, error)
	SetForward(ctx context.Context, ext, target string) (control.HandlingView, error)
	ListTimeFrames(ctx context.Context, owner string) ([]control.TimeFrameView, error)
}

var _ RuleOperator = (*control.Local)(nil)

// actionChoice is an action as the form offers it.
type actionChoice struct {
	Action store.Action
	Label  string
	Target string // what the target is, "" when none
}

// ruleActions are the actions a person can choose, in the order of
// store.Actions (auto attendants and queues do not exist yet).
var ruleActions = []actionChoice{
	{store.ActRingMyPhones, "Ring my phones", ""},
	{store.ActRingAllPhones, "Ring all my phones, even disabled ones", ""},
	{store.ActRingIPPhones, "Ring my IP phones only", ""},
	{store.ActRingPhone, "Ring one of my phones", "phone, such as 200b"},
	{store.ActVoicemail, "Send to my voicemail", ""},
	{store.ActForwardUser, "Forward to another user", "extension"},
	{store.ActForwardNumber, "Forward to a phone number", "number"},
	{store.ActForwardSIP, "Forward to a SIP address", "sip:someone@example.com"},
	{store.ActDisconnect, "Play “not available” and hang up", ""},
}

func actionLabel(a store.Action) string {
	for _, c := range ruleActions {
		if c.Action == a {
			return c.Label
		}
	}
	return string(a)
}

// describeStep says what a step does, for people.
func describeStep(s store.RuleStep) string {
	if s.Action == "" {
		return "“Not available” and hang up"
	}
	var b strings.Builder
	switch s.Action {
	case store.ActRingPhone:
		b.WriteString("Ring phone " + s.Target)
	case store.ActForwardUser:
		b.WriteString("Forward to extension " + s.Target)
	case store.ActForwardNumber:
		b.WriteString("Forward to " + s.Target)
	case store.ActForwardSIP:
		b.WriteString("Forward to " + s.Target)
	default:
		b.WriteString(actionLabel(s.Action))
	}
	if s.Action.Rings() {
		fmt.Fprintf(&b, " for %d s", s.RingFor())
	}
	return b.String()
}

type ruleRow struct {
	Number    int
	Name      string
	When      string
	First     string
	NoAnswer  string
	Disabled  bool
	Active    bool
	Up, Down  int // positions to move to; 0 = cannot
	HasFollow bool
}

// ruleForm is the "Add a rule" form.
type ruleForm struct {
	Name                      string
	TimeFrame                 string
	FirstAction, NextAction   string
	FirstTarget, NextTarget   string
	FirstSeconds, NextSeconds string
}

type rulesView struct {
	CSRF     string
	H        control.HandlingView
	Rows     []ruleRow
	Frames   []control.TimeFrameView
	Actions  []actionChoice
	Form     ruleForm
	Errors   map[string]string
	Error    string
	Forward  string
	ActiveOf string // the rule that applies now, by name
}

func (a *App) rules() (RuleOperator, error) {
	ro, ok := a.cfg.Ops.(RuleOperator)
	if !ok {
		return nil, errorf(http.StatusNotFound, "Answering rules are not available.")
	}
	return ro, nil
}

func (a *App) rulesView(r *http.Request, l *webauth.Login) (rulesView, error) {
	ro, err := a.rules()
	if err != nil {
		return rulesView{}, err
	}
	h, err := ro.CallHandling(r.Context(), l.User.Ext, "")
	if err != nil {
		return rulesView{}, err
	}
	frames, err := ro.ListTimeFrames(r.Context(), l.User.Ext)
	if err != nil {
		return rulesView{}, err
	}
	v := rulesView{CSRF: l.CSRF(), H: h, Frames: frames, Actions: ruleActions, Forward: h.ForwardTo,
		Form: ruleForm{FirstAction: string(store.ActRingMyPhones), NextAction: string(store.ActVoicemail)}}
	for i, rv := range h.Rules {
		row := ruleRow{Number: rv.Number, Name: rv.Name, When: "Any time", First: describeStep(rv.First),
			NoAnswer: describeStep(rv.IfNoAnswer), Disabled: rv.Disabled, Active: rv.Number == h.Active,
			HasFollow: rv.First.Action.Rings() || rv.First.Action == store.ActForwardUser}
		if rv.TimeFrame != "" {
			row.When = rv.TimeFrameName
			if row.When == "" {
				row.When = "(deleted time frame: never)"
			}
		}
		if i > 0 {
			row.Up = rv.Number - 1
		}
		if i < len(h.Rules)-1 {
			row.Down = rv.Number + 1
		}
		if row.Active {
			v.ActiveOf = rv.Name
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

var rulesFlash = map[string]string{
	"added": "The rule is added.", "removed": "The rule is deleted.", "moved": "The rule is moved.",
	"enabled": "The rule is on.", "disabled": "The rule is off.", "dnd-on": "Do not disturb is on.",
	"dnd-off": "Do not disturb is off.", "forward-on": "Your calls are forwarded.", "forward-off": "Forwarding is off.",
}

func (a *App) rulesPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, err := a.rulesView(r, l)
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "rules", &view{Title: "Answering Rules", Login: l, Section: "me", Nav: "rules",
		Flash: rulesFlash[r.URL.Query().Get("done")], Data: v})
	return nil
}

// rulesFail shows the page again with what went wrong.
func (a *App) rulesFail(w http.ResponseWriter, r *http.Request, l *webauth.Login, err error, form *ruleForm) error {
	e := a.userError(r, err)
	if e.Status >= 500 {
		return e
	}
	v, verr := a.rulesView(r, l)
	if verr != nil {
		return verr
	}
	if form != nil {
		v.Form = *form
	}
	v.Errors = e.Fields
	if len(e.Fields) == 0 {
		v.Error = e.Msg
	}
	a.render(w, r, e.Status, "rules", &view{Title: "Answering Rules", Login: l, Section: "me", Nav: "rules", Data: v})
	return nil
}

func (a *App) rulesDone(w http.ResponseWriter, r *http.Request, done string) error {
	http.Redirect(w, r, "/me/rules?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

// ruleSpecFrom reads the add form.
func ruleSpecFrom(f ruleForm) (control.RuleSpec, map[string]string) {
	probs := map[string]string{}
	step := func(field, action, target, secs string) store.RuleStep {
		s := store.RuleStep{Action: store.Action(action), Target: strings.TrimSpace(target)}
		if !s.Action.NeedsTarget() {
			s.Target = "" // a target left in a hidden field does not count
		}
		if secs = strings.TrimSpace(secs); secs != "" && s.Action.Rings() {
			n, err := strconv.Atoi(secs)
			if err != nil || n < 1 || n > 600 {
				probs[field+"_seconds"] = "Enter a ring time from 1 to 600 seconds, or leave it empty for the default."
			}
			s.RingSeconds = n
		}
		return s
	}
	spec := control.RuleSpec{Name: strings.TrimSpace(f.Name), TimeFrame: f.TimeFrame,
		First:      step("first", f.FirstAction, f.FirstTarget, f.FirstSeconds),
		IfNoAnswer: step("next", f.NextAction, f.NextTarget, f.NextSeconds)}
	if !spec.First.Action.Rings() && spec.First.Action != store.ActForwardUser {
		spec.IfNoAnswer = store.RuleStep{} // nothing follows a step that does not ring
	}
	return spec, probs
}

// ruleProblems ties control's message about a rule to the form field it
// is about.
func ruleProblems(err error, spec control.RuleSpec) error {
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest && ce.Status != http.StatusConflict {
		return err
	}
	msg := ce.Message
	field := ""
	switch {
	case strings.HasPrefix(msg, "first do this: "), strings.HasPrefix(msg, "first: "):
		field, msg = "first", msg[strings.Index(msg, ": ")+2:]
	case strings.HasPrefix(msg, "if no answer: "):
		field, msg = "next", strings.TrimPrefix(msg, "if no answer: ")
	case strings.Contains(msg, "First do this"):
		field = "first"
	case strings.Contains(msg, "time frame"):
		field = "time_frame"
	case strings.Contains(msg, "rule named"), strings.Contains(msg, "rule name"), strings.Contains(msg, "needs a name"):
		field = "name"
	case spec.First.Target != "" && strings.Contains(msg, spec.First.Target):
		field = "first"
	case spec.IfNoAnswer.Target != "" && strings.Contains(msg, spec.IfNoAnswer.Target):
		field = "next"
	case strings.Contains(msg, "leave If no answer empty"):
		field = "next"
	}
	if field == "" {
		return err
	}
	return invalid(map[string]string{field: sentence(msg)})
}

func (a *App) addRule(ctx context.Context, ext string, spec control.RuleSpec, probs map[string]string) (control.RuleResult, error) {
	ro, err := a.rules()
	if err != nil {
		return control.RuleResult{}, err
	}
	if spec.Name == "" {
		probs["name"] = "Give the rule a name, such as Lunch or After hours."
	}
	if len(probs) > 0 {
		return control.RuleResult{}, invalid(probs)
	}
	res, err := ro.AddRule(ctx, ext, spec)
	if err != nil {
		return res, ruleProblems(err, spec)
	}
	return res, nil
}

func (a *App) ruleAdd(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	f := ruleForm{Name: r.PostFormValue("name"), TimeFrame: r.PostFormValue("time_frame"),
		FirstAction: r.PostFormValue("first_action"), FirstTarget: r.PostFormValue("first_target"), FirstSeconds: r.PostFormValue("first_seconds"),
		NextAction: r.PostFormValue("next_action"), NextTarget: r.PostFormValue("next_target"), NextSeconds: r.PostFormValue("next_seconds")}
	spec, probs := ruleSpecFrom(f)
	if _, err := a.addRule(r.Context(), l.User.Ext, spec, probs); err != nil {
		return a.rulesFail(w, r, l, err, &f)
	}
	a.log.Info("web: answering rule added", "ext", l.User.Ext, "rule", spec.Name)
	return a.rulesDone(w, r, "added")
}

// ruleChange runs one change of a numbered rule from the list's buttons.
func (a *App) ruleChange(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ro, err := a.rules()
	if err != nil {
		return err
	}
	ref := r.PathValue("n")
	if _, err := strconv.Atoi(ref); err != nil {
		return errNotFound
	}
	var done string
	switch r.PathValue("op") {
	case "delete":
		_, err = ro.RemoveRule(r.Context(), l.User.Ext, ref)
		done = "removed"
	case "enable":
		_, err = ro.SetRuleEnabled(r.Context(), l.User.Ext, ref, true)
		done = "enabled"
	case "disable":
		_, err = ro.SetRuleEnabled(r.Context(), l.User.Ext, ref, false)
		done = "disabled"
	case "move":
		to, perr := strconv.Atoi(r.PostFormValue("to"))
		if perr != nil {
			return errorf(http.StatusBadRequest, "Choose where to move the rule.")
		}
		_, err = ro.MoveRule(r.Context(), l.User.Ext, ref, to)
		done = "moved"
	default:
		return errNotFound
	}
	if err != nil {
		return a.rulesFail(w, r, l, err, nil)
	}
	return a.rulesDone(w, r, done)
}

func (a *App) ruleDND(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ro, err := a.rules()
	if err != nil {
		return err
	}
	on := r.PostFormValue("on") == "1"
	if _, err := ro.SetDND(r.Context(), l.User.Ext, on); err != nil {
		return a.rulesFail(w, r, l, err, nil)
	}
	return a.rulesDone(w, r, map[bool]string{true: "dnd-on", false: "dnd-off"}[on])
}

func (a *App) ruleForward(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ro, err := a.rules()
	if err != nil {
		return err
	}
	target := strings.TrimSpace(r.PostFormValue("target"))
	if r.PostFormValue("stop") != "" {
		target = ""
	} else if target == "" {
		return a.rulesFail(w, r, l, invalid(map[string]string{"forward": "Enter an extension or a phone number to forward to."}), nil)
	}
	if _, err := ro.SetForward(r.Context(), l.User.Ext, target); err != nil {
		var ce *control.Error
		if errors.As(err, &ce) && ce.Status == http.StatusBadRequest {
			err = invalid(map[string]string{"forward": sentence(ce.Message)})
		}
		return a.rulesFail(w, r, l, err, nil)
	}
	return a.rulesDone(w, r, map[bool]string{true: "forward-on", false: "forward-off"}[target != ""])
}

// The same for the API: the logged-in user's own rules only.
func (a *App) apiRulesRoutes() {
	m := a.mux
	own := func(fn func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error)) http.HandlerFunc {
		return a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
			ro, err := a.rules()
			if err != nil {
				return nil, err
			}
			return fn(ro, r, l)
		})
	}
	m.HandleFunc("GET /api/me/rules", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		return ro.CallHandling(r.Context(), l.User.Ext, r.URL.Query().Get("at"))
	}))
	m.HandleFunc("POST /api/me/rules", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		var spec control.RuleSpec
		if err := readJSON(r, &spec); err != nil {
			return nil, err
		}
		spec.Name = strings.TrimSpace(spec.Name)
		res, err := a.addRule(r.Context(), l.User.Ext, spec, map[string]string{})
		if err != nil {
			return nil, err
		}
		return created{res}, nil
	}))
	m.HandleFunc("DELETE /api/me/rules/{n}", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		return ro.RemoveRule(r.Context(), l.User.Ext, r.PathValue("n"))
	}))
	m.HandleFunc("PATCH /api/me/rules/{n}", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Enabled  *bool `json:"enabled"`
			Position *int  `json:"position"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		ref := r.PathValue("n")
		var res control.RuleResult
		var err error
		if req.Enabled != nil {
			if res, err = ro.SetRuleEnabled(r.Context(), l.User.Ext, ref, *req.Enabled); err != nil {
				return nil, err
			}
			ref = strconv.Itoa(res.Rule.Number)
		}
		if req.Position != nil {
			res, err = ro.MoveRule(r.Context(), l.User.Ext, ref, *req.Position)
		}
		if req.Enabled == nil && req.Position == nil {
			return nil, errorf(http.StatusBadRequest, "Send enabled, position or both.")
		}
		return res, err
	}))
	m.HandleFunc("PUT /api/me/dnd", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			On bool `json:"on"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		return ro.SetDND(r.Context(), l.User.Ext, req.On)
	}))
	m.HandleFunc("PUT /api/me/forward", own(func(ro RuleOperator, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Target string `json:"target"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		return ro.SetForward(r.Context(), l.User.Ext, req.Target)
	}))
}

// stepTemplate is what the rule-step template shows of one step.
type stepTemplate struct {
	Name, Legend            string
	Action, Target, Seconds string
	Error, SecondsError     string
	Actions                 []actionChoice
	Optional                bool // If no answer may be empty
}

func stepArgs(name, legend, action, target, seconds string, errs map[string]string, actions []actionChoice, optional bool) stepTemplate {
	return stepTemplate{Name: name, Legend: legend, Action: action, Target: target, Seconds: seconds,
		Error: errs[name], SecondsError: errs[name+"_seconds"], Actions: actions, Optional: optional}
}
