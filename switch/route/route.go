// Package route decides what a call should do: (caller, dialled string,
// time) → a Plan. It is pure — it reads records through Directory and never
// sends SIP — so every decision is table-tested and can be shown in the UI.
// switch/call carries the plan out.
package route

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"switchboard/store"
)

// Directory is the read-only view of the records routing needs.
type Directory interface {
	User(ext string) (store.User, error)
	Devices(ext string) ([]store.Device, error)
	CallHandling(ext string) (store.CallHandling, error)
	TimeFrame(id string) (store.TimeFrame, error)
	TimeZone() (string, error) // the office's IANA zone name; "" = the machine's
}

// Input is one call to route.
type Input struct {
	CallerDevice string // the calling device ("200b"); "" when the call came from outside
	Dialled      string // the user part of the Request-URI
}

// Settings are the organisation-wide routing defaults.
type Settings struct {
	RingTime time.Duration   // how long phones ring when the user set no rule of their own
	Location *time.Location  // the office's time zone, for time frames (default UTC)
	Features map[string]Code // feature codes; nil = DefaultFeatures
}

// DefaultSettings are used where the organisation set nothing.
var DefaultSettings = Settings{RingTime: 30 * time.Second}

// Kind is what a plan does.
type Kind int

const (
	Steps       Kind = iota + 1 // carry out Plan.Steps in order until one connects
	NotFound                    // no such extension (404)
	Unavailable                 // the extension exists but cannot take calls now (480)
	Feature                     // a feature code (*97, *78, …): Plan.Feature
)

func (k Kind) String() string {
	switch k {
	case Steps:
		return "steps"
	case NotFound:
		return "not-found"
	case Unavailable:
		return "unavailable"
	case Feature:
		return "feature"
	}
	return "unknown"
}

// Plan is the decision for one call.
type Plan struct {
	Kind    Kind
	Ext     string // the extension reached
	Name    string // its user's name, for display
	Steps   []Step // with Steps; when all fail the caller hears "not available"
	Rule    string // the answering rule that matched ("" = the default)
	Feature Code   // with Feature
	Arg     string // the feature code's argument (*72201 → "201")
	Reason  string // why, in words, for logs and the UI
}

// Step is one thing to try. Ringing steps ring Devices or Target for
// RingTime; voicemail and disconnect end the plan.
type Step struct {
	Action     store.Action
	Ext        string   // whose step it is (the forwarded-to user after a forward)
	Devices    []string // ring steps on our phones
	Target     string   // external number or SIP address
	RingTime   time.Duration
	ShowCalled bool // the ringing phone shows the number the caller dialled
}

func (s Step) String() string {
	switch s.Action {
	case store.ActRingMyPhones, store.ActRingAllPhones, store.ActRingIPPhones, store.ActRingPhone:
		return fmt.Sprintf("ring %s for %s", strings.Join(s.Devices, ","), s.RingTime)
	case store.ActForwardNumber, store.ActForwardSIP:
		return fmt.Sprintf("call %s for %s", s.Target, s.RingTime)
	case store.ActVoicemail:
		return "voicemail " + s.Ext
	case store.ActForwardService:
		return "service " + s.Target
	}
	return string(s.Action)
}

// Rings reports whether the step rings phones or an outside destination.
func (s Step) Rings() bool { return s.Action.Rings() }

// String renders a plan on one line (golden tests, logs).
func (p Plan) String() string {
	switch p.Kind {
	case Steps:
		parts := make([]string, len(p.Steps))
		for i, s := range p.Steps {
			parts[i] = s.String()
		}
		return strings.Join(append(parts, "not available"), " → ")
	case Feature:
		if p.Arg != "" {
			return fmt.Sprintf("feature %s %s", p.Feature, p.Arg)
		}
		return "feature " + string(p.Feature)
	default:
		return fmt.Sprintf("%s: %s", p.Kind, p.Reason)
	}
}

// maxForwards bounds chains of "forward to another user".
const maxForwards = 5

// Route turns a call into a plan: a feature code, or the callee's answering
// rules evaluated at now.
func Route(in Input, dir Directory, s Settings, now time.Time) (Plan, error) {
	if s.RingTime <= 0 {
		s.RingTime = DefaultSettings.RingTime
	}
	if s.Location == nil {
		s.Location = zone(dir)
	}
	dialled := strings.TrimSpace(in.Dialled)
	if strings.HasPrefix(dialled, "*") {
		return routeFeature(in, dialled, s), nil
	}
	if !isExtension(dialled) {
		return Plan{Kind: NotFound, Reason: fmt.Sprintf("%q is not an extension", in.Dialled)}, nil
	}
	r := router{in: in, dir: dir, s: s, now: now, seen: map[string]bool{}}
	return r.route(dialled)
}

type router struct {
	in   Input
	dir  Directory
	s    Settings
	now  time.Time
	seen map[string]bool // extensions already on the forwarding chain
}

func (r *router) route(ext string) (Plan, error) {
	u, err := r.dir.User(ext)
	if errors.Is(err, store.ErrNotFound) {
		return Plan{Kind: NotFound, Ext: ext, Reason: "no user has extension " + ext}, nil
	}
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Kind: Steps, Ext: ext, Name: u.Name()}
	if u.Disabled {
		plan.Kind, plan.Reason = Unavailable, "user "+ext+" is disabled"
		return plan, nil
	}
	steps, rule, reason, err := r.steps(ext)
	if err != nil {
		return Plan{}, err
	}
	plan.Steps, plan.Rule, plan.Reason = steps, rule, reason
	return plan, nil
}

// steps are the steps for a call reaching ext, with forwards to other users
// expanded in place.
func (r *router) steps(ext string) (steps []Step, rule, reason string, err error) {
	r.seen[ext] = true
	h, err := r.dir.CallHandling(ext)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", "", err
	}
	var chosen []store.RuleStep
	switch {
	case h.DND:
		chosen, reason = []store.RuleStep{{Action: store.ActVoicemail}}, "do not disturb"
	case h.ForwardTo != "":
		chosen, reason = []store.RuleStep{r.forwardStep(h.ForwardTo)}, "forwarded to "+h.ForwardTo
	default:
		ar, ok, err := r.matchRule(h.Rules)
		if err != nil {
			return nil, "", "", err
		}
		if ok {
			chosen, rule, reason = []store.RuleStep{ar.First, ar.IfNoAnswer}, ar.Name, "rule "+ar.Name
		} else {
			chosen = []store.RuleStep{{Action: store.ActRingMyPhones, RingSeconds: int(r.s.RingTime / time.Second)},
				{Action: store.ActVoicemail}}
			reason = "default: ring, then voicemail"
		}
	}
	for _, rs := range chosen {
		if rs.Action == "" {
			continue
		}
		more, ends, err := r.expand(ext, rs)
		if err != nil {
			return nil, "", "", err
		}
		steps = append(steps, more...)
		if ends {
			break
		}
	}
	return steps, rule, reason, nil
}

// forwardStep reads a feature-code forward target: one of our extensions
// or else an outside number.
func (r *router) forwardStep(target string) store.RuleStep {
	if _, err := r.dir.User(target); err == nil {
		return store.RuleStep{Action: store.ActForwardUser, Target: target}
	}
	return store.RuleStep{Action: store.ActForwardNumber, Target: target}
}

// matchRule returns the first enabled rule whose time frame holds now.
func (r *router) matchRule(rules []store.AnsweringRule) (store.AnsweringRule, bool, error) {
	for _, ar := range rules {
		if ar.Disabled {
			continue
		}
		if ar.TimeFrame == "" {
			return ar, true, nil
		}
		tf, err := r.dir.TimeFrame(ar.TimeFrame)
		if errors.Is(err, store.ErrNotFound) {
			continue // a deleted frame never matches
		}
		if err != nil {
			return ar, false, err
		}
		if InFrame(tf, r.now, r.s.Location) {
			return ar, true, nil
		}
	}
	return store.AnsweringRule{}, false, nil
}

// expand turns one rule step of ext into plan steps. ends reports that
// nothing after it can run (voicemail, disconnect, a forward to a user).
func (r *router) expand(ext string, rs store.RuleStep) (steps []Step, ends bool, err error) {
	ring := time.Duration(rs.RingFor()) * time.Second
	switch rs.Action {
	case store.ActRingMyPhones, store.ActRingIPPhones, store.ActRingAllPhones, store.ActRingPhone:
		devices, err := r.devices(ext, rs)
		if err != nil || len(devices) == 0 {
			return nil, false, err // nothing to ring: on to the next step
		}
		return []Step{{Action: rs.Action, Ext: ext, Devices: devices, RingTime: ring, ShowCalled: rs.ShowCalled}}, false, nil
	case store.ActForwardNumber, store.ActForwardSIP:
		return []Step{{Action: rs.Action, Ext: ext, Target: rs.Target, RingTime: ring, ShowCalled: rs.ShowCalled}}, false, nil
	case store.ActVoicemail:
		return []Step{{Action: store.ActVoicemail, Ext: ext}}, true, nil
	case store.ActForwardService:
		return []Step{{Action: store.ActForwardService, Ext: ext, Target: rs.Target}}, true, nil
	case store.ActForwardUser:
		target := strings.TrimSpace(rs.Target)
		u, err := r.dir.User(target)
		switch {
		case errors.Is(err, store.ErrNotFound), err == nil && u.Disabled:
			return nil, false, nil // the user is gone: try what follows
		case err != nil:
			return nil, false, err
		case r.seen[target] || len(r.seen) > maxForwards:
			return []Step{{Action: store.ActDisconnect, Ext: ext}}, true, nil // a forwarding loop
		}
		more, _, _, err := r.steps(target)
		return more, true, err
	}
	return []Step{{Action: store.ActDisconnect, Ext: ext}}, true, nil
}

// devices are the phones a ring step rings; a phone never rings itself
// when its user calls their own extension.
func (r *router) devices(ext string, rs store.RuleStep) ([]string, error) {
	all, err := r.dir.Devices(ext)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range all {
		if d.ID == r.in.CallerDevice {
			continue
		}
		switch rs.Action {
		case store.ActRingAllPhones:
		case store.ActRingPhone:
			if d.ID != rs.Target {
				continue
			}
		default:
			if d.Disabled {
				continue
			}
		}
		out = append(out, d.ID)
	}
	return out, nil
}

func isExtension(s string) bool {
	if len(s) < 2 || len(s) > 7 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// zones caches loaded time zones: the setting can change at any time, and
// parsing tzdata on every call would cost more than routing itself.
var zones sync.Map // name → *time.Location

// zone is the office's time zone from the directory; the machine's when
// unset, UTC when unreadable.
func zone(dir Directory) *time.Location {
	name, err := dir.TimeZone()
	if err != nil {
		return time.UTC
	}
	if name == "" {
		return time.Local
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}
