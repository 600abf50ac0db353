package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/store"
	"switchboard/switch/route"
)

// RuleResult is one rule after a change, with the user's call handling.
type RuleResult struct {
	Rule     RuleView     `json:"rule"`
	Handling HandlingView `json:"handling"`
}

// CallHandling shows how calls to ext are handled, and what a call from
// outside does at the wall-clock time at in the office's time zone
// ("2026-12-24 10:00"; "" = now).
func (l *Local) CallHandling(_ context.Context, ext, at string) (HandlingView, error) {
	u, err := l.Store.User(ext)
	if err != nil {
		return HandlingView{}, asError(err, "extension "+ext)
	}
	h, err := l.Store.CallHandling(ext)
	if err != nil {
		return HandlingView{}, asError(err, "extension "+ext)
	}
	return l.handlingView(u, h, at)
}

// location is the office's time zone: the setting, or the machine's zone
// when none is set (as the server does).
func (l *Local) location() (*time.Location, string, error) {
	var zone string
	err := l.Store.Setting(store.TimeZoneKey, &zone)
	if errors.Is(err, store.ErrNotFound) || (err == nil && zone == "") {
		return time.Local, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, "", fmt.Errorf("time zone setting %q: %w", zone, err)
	}
	return loc, zone, nil
}

// atLayouts are the ways to write a moment for CallHandling.
var atLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// parseAt reads a wall-clock time in loc, or an RFC 3339 time.
func parseAt(at string, loc *time.Location) (time.Time, error) {
	at = strings.TrimSpace(at)
	if at == "" {
		return time.Now().In(loc).Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range atLayouts {
		if t, err := time.ParseInLocation(layout, at, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errorf(http.StatusBadRequest, "time %q: want a date and time such as 2026-12-24 10:00 (in the office's time zone)", at)
}

func (l *Local) handlingView(u store.User, h store.CallHandling, at string) (HandlingView, error) {
	loc, zone, err := l.location()
	if err != nil {
		return HandlingView{}, err
	}
	t, err := parseAt(at, loc)
	if err != nil {
		return HandlingView{}, err
	}
	v := HandlingView{Ext: u.Ext, Name: u.Name(), DND: h.DND, ForwardTo: h.ForwardTo, Rules: []RuleView{},
		At: t, TimeZone: zone}
	if zone == "" {
		v.TimeZone = "Local"
	}
	if h.ForwardTo != "" {
		if fu, err := l.Store.User(h.ForwardTo); err == nil {
			v.ForwardName = fu.Name()
		}
	}
	switch {
	case h.DND:
		v.Override = "dnd"
	case h.ForwardTo != "":
		v.Override = "forward"
	}
	for i, r := range h.Rules {
		rv := RuleView{Number: i + 1, AnsweringRule: r}
		holds := true
		if r.TimeFrame != "" {
			tf, err := l.Store.TimeFrame(r.TimeFrame)
			switch {
			case errors.Is(err, store.ErrNotFound):
				holds = false // a deleted frame never matches (as in route)
			case err != nil:
				return HandlingView{}, err
			default:
				rv.TimeFrameName = tf.Name
				holds = route.InFrame(tf, t, loc)
			}
		}
		if v.Active == 0 && !r.Disabled && holds {
			v.Active = rv.Number
		}
		v.Rules = append(v.Rules, rv)
	}
	plan, err := route.Route(route.Input{Dialled: u.Ext}, l.Store, route.Settings{Location: loc}, t)
	if err != nil {
		return HandlingView{}, err
	}
	v.Plan, v.PlanReason = plan.String(), plan.Reason
	return v, nil
}

// updateHandling applies change to ext's rules and returns the new view.
func (l *Local) updateHandling(ext string, change func(*store.CallHandling) error) (HandlingView, error) {
	h, err := l.Store.UpdateCallHandling(ext, change)
	if err != nil {
		return HandlingView{}, asError(err, "extension "+ext)
	}
	u, err := l.Store.User(ext)
	if err != nil {
		return HandlingView{}, asError(err, "extension "+ext)
	}
	return l.handlingView(u, h, "")
}

// ruleResult is the view after a change with the rule at index i picked out.
func ruleResult(v HandlingView, i int, err error) (RuleResult, error) {
	if err != nil {
		return RuleResult{}, err
	}
	return RuleResult{Rule: v.Rules[i], Handling: v}, nil
}

// AddRule adds an answering rule to ext at spec.Position (0 = last).
func (l *Local) AddRule(_ context.Context, ext string, spec RuleSpec) (RuleResult, error) {
	if err := checkRuleSpec(&spec); err != nil {
		return RuleResult{}, err
	}
	if _, err := l.Store.User(ext); err != nil {
		return RuleResult{}, asError(err, "extension "+ext)
	}
	if spec.TimeFrame != "" {
		tf, err := l.findFrame(spec.TimeFrame, ext)
		if err != nil {
			return RuleResult{}, err
		}
		spec.TimeFrame = tf.ID
	}
	for _, s := range []store.RuleStep{spec.First, spec.IfNoAnswer} {
		if err := l.checkTarget(ext, s); err != nil {
			return RuleResult{}, err
		}
	}
	at := 0
	v, err := l.updateHandling(ext, func(h *store.CallHandling) error {
		for _, r := range h.Rules {
			if strings.EqualFold(r.Name, spec.Name) {
				return errorf(http.StatusConflict, "extension %s already has a rule named %q", ext, r.Name)
			}
		}
		if len(h.Rules) >= maxRules {
			return errorf(http.StatusBadRequest, "extension %s has %d rules, the most there can be", ext, len(h.Rules))
		}
		at = len(h.Rules)
		if spec.Position > 0 {
			if spec.Position > len(h.Rules)+1 {
				return errorf(http.StatusBadRequest, "position %d: %s, so a new one goes at 1 to %d",
					spec.Position, countRules(len(h.Rules)), len(h.Rules)+1)
			}
			at = spec.Position - 1
		}
		h.Rules = slices.Insert(h.Rules, at, store.AnsweringRule{Name: spec.Name, TimeFrame: spec.TimeFrame,
			First: spec.First, IfNoAnswer: spec.IfNoAnswer})
		return nil
	})
	return ruleResult(v, at, err)
}

// checkTarget checks that a step's phone or user exists and may be used by ext.
func (l *Local) checkTarget(ext string, s store.RuleStep) error {
	switch s.Action {
	case store.ActRingPhone:
		d, err := l.Store.Device(s.Target)
		if errors.Is(err, store.ErrNotFound) || (err == nil && d.Ext != ext) {
			return errorf(http.StatusBadRequest, "extension %s has no phone %s", ext, s.Target)
		}
		return err
	case store.ActForwardUser:
		if s.Target == ext {
			return errorf(http.StatusBadRequest, "a rule of %s cannot forward to %s itself", ext, ext)
		}
		_, err := l.Store.User(s.Target)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusBadRequest, "no user has extension %s", s.Target)
		}
		return err
	}
	return nil
}

// RemoveRule deletes one of ext's rules, by number or name.
func (l *Local) RemoveRule(_ context.Context, ext, ref string) (RuleResult, error) {
	var removed store.AnsweringRule
	var n int
	v, err := l.updateHandling(ext, func(h *store.CallHandling) error {
		i, err := findRule(h.Rules, ref)
		if err != nil {
			return err
		}
		removed, n = h.Rules[i], i+1
		h.Rules = slices.Delete(h.Rules, i, i+1)
		return nil
	})
	if err != nil {
		return RuleResult{}, err
	}
	return RuleResult{Rule: RuleView{Number: n, AnsweringRule: removed}, Handling: v}, nil
}

// SetRuleEnabled switches one of ext's rules on or off, by number or name.
func (l *Local) SetRuleEnabled(_ context.Context, ext, ref string, enabled bool) (RuleResult, error) {
	i := 0
	v, err := l.updateHandling(ext, func(h *store.CallHandling) error {
		var err error
		if i, err = findRule(h.Rules, ref); err != nil {
			return err
		}
		h.Rules[i].Disabled = !enabled
		return nil
	})
	return ruleResult(v, i, err)
}

// MoveRule moves one of ext's rules (by number or name) to position to.
func (l *Local) MoveRule(_ context.Context, ext, ref string, to int) (RuleResult, error) {
	v, err := l.updateHandling(ext, func(h *store.CallHandling) error {
		i, err := findRule(h.Rules, ref)
		if err != nil {
			return err
		}
		if to < 1 || to > len(h.Rules) {
			return errorf(http.StatusBadRequest, "cannot move to position %d: %s", to, countRules(len(h.Rules)))
		}
		r := h.Rules[i]
		h.Rules = slices.Insert(slices.Delete(h.Rules, i, i+1), to-1, r)
		return nil
	})
	return ruleResult(v, to-1, err)
}

// SetDND switches do not disturb on or off for ext.
func (l *Local) SetDND(_ context.Context, ext string, on bool) (HandlingView, error) {
	return l.updateHandling(ext, func(h *store.CallHandling) error {
		h.DND = on
		return nil
	})
}

// SetForward forwards every call to ext to target (an extension or an
// outside number), or stops forwarding when target is "".
func (l *Local) SetForward(_ context.Context, ext, target string) (HandlingView, error) {
	target = strings.TrimSpace(target)
	if err := CheckForwardTarget(target); err != nil {
		return HandlingView{}, err
	}
	if target == ext {
		return HandlingView{}, errorf(http.StatusBadRequest, "cannot forward %s to itself", ext)
	}
	return l.updateHandling(ext, func(h *store.CallHandling) error {
		h.ForwardTo = target
		return nil
	})
}

// ruleUses maps each time frame id to the rules that use it.
func (l *Local) ruleUses() (map[string][]RuleUse, error) {
	users, err := l.Store.Users()
	if err != nil {
		return nil, err
	}
	uses := map[string][]RuleUse{}
	for _, u := range users {
		h, err := l.Store.CallHandling(u.Ext)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		for _, r := range h.Rules {
			if r.TimeFrame != "" {
				uses[r.TimeFrame] = append(uses[r.TimeFrame], RuleUse{Ext: u.Ext, Rule: r.Name})
			}
		}
	}
	return uses, nil
}

// ListTimeFrames lists the organisation's time frames and those of owner
// (every frame when owner is ""), with the rules using each.
func (l *Local) ListTimeFrames(_ context.Context, owner string) ([]TimeFrameView, error) {
	scope := "*"
	if owner != "" {
		if _, err := l.Store.User(owner); err != nil {
			return nil, asError(err, "extension "+owner)
		}
		scope = owner
	}
	frames, err := l.Store.TimeFrames(scope)
	if err != nil {
		return nil, err
	}
	uses, err := l.ruleUses()
	if err != nil {
		return nil, err
	}
	out := make([]TimeFrameView, 0, len(frames))
	for _, tf := range frames {
		out = append(out, TimeFrameView{TimeFrame: tf, UsedBy: uses[tf.ID]})
	}
	return out, nil
}

// AddTimeFrame creates a time frame; an empty id is made from the name.
func (l *Local) AddTimeFrame(_ context.Context, tf store.TimeFrame) (TimeFrameView, error) {
	tf.Name = strings.TrimSpace(tf.Name)
	tf.Owner = strings.TrimSpace(tf.Owner)
	if tf.ID != "" && !frameIDPattern.MatchString(tf.ID) {
		return TimeFrameView{}, errorf(http.StatusBadRequest, "time frame id %q: want up to %d lower-case letters, digits and dashes", tf.ID, maxFrameID)
	}
	all, err := l.checkFrame(tf)
	if err != nil {
		return TimeFrameView{}, err
	}
	ids := map[string]bool{}
	for _, o := range all {
		ids[o.ID] = true
	}
	switch {
	case tf.ID != "" && ids[tf.ID]:
		return TimeFrameView{}, errorf(http.StatusConflict, "time frame id %s already exists", tf.ID)
	case tf.ID == "":
		base := frameID(tf.Owner, tf.Name)
		tf.ID = base
		for n := 2; ids[tf.ID]; n++ {
			tf.ID = fmt.Sprintf("%s-%d", base, n)
		}
	}
	if err := l.Store.PutTimeFrame(tf); err != nil {
		return TimeFrameView{}, err
	}
	return TimeFrameView{TimeFrame: tf}, nil
}

// UpdateTimeFrame replaces the name and times of the frame with tf.ID; its
// owner stays. Rules that use it follow the new times at once.
func (l *Local) UpdateTimeFrame(_ context.Context, tf store.TimeFrame) (TimeFrameView, error) {
	old, err := l.Store.TimeFrame(tf.ID)
	if err != nil {
		return TimeFrameView{}, asError(err, "time frame "+tf.ID)
	}
	tf.Name = strings.TrimSpace(tf.Name)
	tf.Owner = old.Owner
	if _, err := l.checkFrame(tf); err != nil {
		return TimeFrameView{}, err
	}
	if err := l.Store.PutTimeFrame(tf); err != nil {
		return TimeFrameView{}, err
	}
	uses, err := l.ruleUses()
	if err != nil {
		return TimeFrameView{}, err
	}
	return TimeFrameView{TimeFrame: tf, UsedBy: uses[tf.ID]}, nil
}

// checkFrame checks a frame to store: its name, times and owner, and that
// no other frame its users see has its name. It returns every frame.
func (l *Local) checkFrame(tf store.TimeFrame) ([]store.TimeFrame, error) {
	if err := checkName("time frame", tf.Name); err != nil {
		return nil, err
	}
	if err := route.CheckTimeFrame(tf); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	if tf.Owner != "" {
		if _, err := l.Store.User(tf.Owner); err != nil {
			return nil, asError(err, "extension "+tf.Owner)
		}
	}
	all, err := l.Store.TimeFrames("*")
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		// One name means one frame wherever a user picks from: the
		// organisation's frames and their own.
		visible := tf.Owner == "" || o.Owner == "" || o.Owner == tf.Owner
		if o.ID != tf.ID && visible && strings.EqualFold(o.Name, tf.Name) {
			return nil, errorf(http.StatusConflict, "a time frame named %q already exists (id %s)", o.Name, o.ID)
		}
	}
	return all, nil
}

// findFrame finds a time frame by id or name (any case) among the frames
// owner may use (every frame when owner is "*").
func (l *Local) findFrame(ref, owner string) (store.TimeFrame, error) {
	frames, err := l.Store.TimeFrames(owner)
	if err != nil {
		return store.TimeFrame{}, err
	}
	var named []store.TimeFrame
	for _, tf := range frames {
		if tf.ID == ref {
			return tf, nil
		}
		if strings.EqualFold(tf.Name, ref) {
			named = append(named, tf)
		}
	}
	switch {
	case len(named) == 1:
		return named[0], nil
	case len(named) > 1:
		ids := make([]string, len(named))
		for i, tf := range named {
			ids[i] = tf.ID
		}
		return store.TimeFrame{}, errorf(http.StatusBadRequest, "several time frames are named %q: give the id (%s)", ref, strings.Join(ids, ", "))
	case owner == "*":
		return store.TimeFrame{}, errorf(http.StatusNotFound, "time frame %q not found", ref)
	}
	return store.TimeFrame{}, errorf(http.StatusBadRequest, "no time frame %q that extension %s can use (the organisation's and its own)", ref, owner)
}

// RemoveTimeFrame deletes a time frame (by id or name) that no rule uses.
func (l *Local) RemoveTimeFrame(_ context.Context, ref string) (TimeFrameView, error) {
	tf, err := l.findFrame(strings.TrimSpace(ref), "*")
	if err != nil {
		return TimeFrameView{}, err
	}
	uses, err := l.ruleUses()
	if err != nil {
		return TimeFrameView{}, err
	}
	if u := uses[tf.ID]; len(u) > 0 {
		names := make([]string, len(u))
		for i, use := range u {
			names[i] = use.String()
		}
		return TimeFrameView{}, errorf(http.StatusConflict, "time frame %q is used by %s: remove or change that first",
			tf.Name, strings.Join(names, ", "))
	}
	if err := l.Store.DeleteTimeFrame(tf.ID); err != nil {
		return TimeFrameView{}, asError(err, "time frame "+tf.ID)
	}
	return TimeFrameView{TimeFrame: tf}, nil
}

// TimeZone returns the office's time zone.
func (l *Local) TimeZone(context.Context) (TimeZoneView, error) {
	loc, zone, err := l.location()
	if err != nil {
		return TimeZoneView{}, err
	}
	return TimeZoneView{Zone: zone, Effective: loc.String(), Now: time.Now().In(loc)}, nil
}

// SetTimeZone sets the office's time zone (an IANA name). A running server
// routes calls in the new zone from the next call on (route reads the
// setting for every call).
func (l *Local) SetTimeZone(ctx context.Context, zone string) (TimeZoneView, error) {
	if _, err := CheckTimeZone(zone); err != nil {
		return TimeZoneView{}, err
	}
	if err := l.Store.PutSetting(store.TimeZoneKey, zone); err != nil {
		return TimeZoneView{}, err
	}
	v, err := l.TimeZone(ctx)
	return v, err
}
