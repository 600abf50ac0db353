package control

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"switchboard/store"
)

// This file holds the types and input checks of the answering-rule
// operations: a user's rules, do not disturb, forwarding, the time frames
// the rules use and the office's time zone. Local runs them in
// local_rules.go, Client in client_rules.go, Handler in socket_rules.go.

// RuleSpec is an answering rule to add.
type RuleSpec struct {
	Name       string         `json:"name"`
	TimeFrame  string         `json:"time_frame,omitempty"` // id or name of a frame; "" = at any time
	Position   int            `json:"position,omitempty"`   // 1 = first; 0 = after the others
	First      store.RuleStep `json:"first"`
	IfNoAnswer store.RuleStep `json:"if_no_answer"`
}

// HandlingView is how calls to one user are handled, and what that means
// for a call from outside at one moment (At).
type HandlingView struct {
	Ext       string `json:"ext"`
	Name      string `json:"name"`
	DND       bool   `json:"dnd"`
	ForwardTo string `json:"forward_to,omitempty"`
	// ForwardName is the name of the user ForwardTo reaches; "" when it is
	// an outside number.
	ForwardName string     `json:"forward_name,omitempty"`
	Rules       []RuleView `json:"rules"`
	// Active is the number of the rule in effect at At: the first enabled
	// one whose time frame holds; 0 = none, the default applies.
	Active int `json:"active"`
	// Override says what sets the rules aside: "dnd" or "forward"; "" = none.
	Override string    `json:"override,omitempty"`
	At       time.Time `json:"at"`
	TimeZone string    `json:"time_zone"` // the zone At and the time frames are read in
	// Plan is what a call from outside at At does, as the switch routes it
	// ("ring 200,200b for 12s → voicemail 200 → not available").
	Plan       string `json:"plan"`
	PlanReason string `json:"plan_reason,omitempty"`
}

// RuleView is one rule with its position and its time frame's name.
type RuleView struct {
	Number int `json:"number"` // 1-based position: rules are tried in this order
	store.AnsweringRule
	TimeFrameName string `json:"time_frame_name,omitempty"`
}

// TimeFrameView is a time frame with the rules that use it.
type TimeFrameView struct {
	store.TimeFrame
	UsedBy []RuleUse `json:"used_by,omitempty"`
}

// RuleUse names one rule: extension and rule name.
type RuleUse struct {
	Ext  string `json:"ext"`
	Rule string `json:"rule"`
}

func (u RuleUse) String() string { return fmt.Sprintf("rule %q of %s", u.Rule, u.Ext) }

// TimeZoneView is the office's time zone setting.
type TimeZoneView struct {
	Zone string `json:"zone"` // the IANA name set; "" = not set, the machine's local zone applies
	// Effective is the zone in use: Zone, or the machine's ("Local").
	Effective string    `json:"effective"`
	Now       time.Time `json:"now"` // the time there now
}

// Ordinary limits of what people type.
const (
	maxRuleName = 60
	maxRules    = 50
	maxFrameID  = 40
)

var (
	frameIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	outsideNumber  = regexp.MustCompile(`^\+?[0-9]{2,20}$`)
	// sipAddrPattern: sip:[user@]host[:port][;param[=value]]…, with the
	// characters RFC 3261 allows there as they are (no headers, no quotes,
	// no < > or spaces: the target goes into the INVITE as written).
	sipAddrPattern  = regexp.MustCompile(`^sips?:([A-Za-z0-9\-_.!~*'()&=+$,%]+@)?[A-Za-z0-9.\-\[\]:]+(;[A-Za-z0-9\-_.!~*'()\[\]/:&+$%=]+)*$`)
	ruleNumberRegex = regexp.MustCompile(`^[0-9]+$`)
)

// checkName checks the name of a rule or time frame.
func checkName(kind, name string) error {
	switch {
	case name == "":
		return errorf(http.StatusBadRequest, "a %s needs a name", kind)
	case len(name) > maxRuleName:
		return errorf(http.StatusBadRequest, "a %s name can have at most %d characters", kind, maxRuleName)
	case ruleNumberRegex.MatchString(name):
		return errorf(http.StatusBadRequest, "%s name %q cannot be only digits: numbers stand for positions", kind, name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errorf(http.StatusBadRequest, "a %s name cannot contain control characters", kind)
	}
	return nil
}

// CheckRuleSpec reports whether a rule is well formed on its own, without
// any data: its name, actions, targets and ring times. (Whether its
// phone, user or time frame exists is checked when it is added.)
func CheckRuleSpec(spec RuleSpec) error { return checkRuleSpec(&spec) }

func checkRuleSpec(spec *RuleSpec) error {
	spec.Name = strings.TrimSpace(spec.Name)
	spec.TimeFrame = strings.TrimSpace(spec.TimeFrame)
	if err := checkName("rule", spec.Name); err != nil {
		return err
	}
	if spec.Position < 0 {
		return errorf(http.StatusBadRequest, "position %d: positions start at 1", spec.Position)
	}
	if spec.First.Action == "" {
		return errorf(http.StatusBadRequest, "a rule needs a First do this action (one of %s)", actionList())
	}
	for _, s := range []struct {
		label string
		step  *store.RuleStep
	}{{"first do this", &spec.First}, {"if no answer", &spec.IfNoAnswer}} {
		if err := checkStep(s.step); err != nil {
			return errorf(http.StatusBadRequest, "%s: %v", s.label, err)
		}
	}
	r := store.AnsweringRule{Name: spec.Name, First: spec.First, IfNoAnswer: spec.IfNoAnswer}
	if err := r.Validate(); err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	return nil
}

// checkStep checks one step beyond store.RuleStep.Validate: targets of the
// right shape, ring settings only where something rings, and no action the
// switch cannot carry out yet.
func checkStep(s *store.RuleStep) error {
	s.Target = strings.TrimSpace(s.Target)
	if s.Action == "" {
		if s.Target != "" || s.RingSeconds != 0 || s.ShowCalled {
			return fmt.Errorf("a target, ring time or caller display needs an action")
		}
		return nil
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Action == store.ActForwardService {
		return fmt.Errorf("%s (auto attendant or queue) is not available yet: Switchboard has no auto attendants or queues", s.Action)
	}
	if !s.Action.Rings() && (s.RingSeconds != 0 || s.ShowCalled) {
		return fmt.Errorf("%s does not ring a phone: a ring time or caller display applies to ring and forward_external/forward_sip actions", s.Action)
	}
	switch s.Action {
	case store.ActRingPhone:
		if !devicePattern.MatchString(s.Target) {
			return fmt.Errorf("phone %q is not a device id such as 200b", s.Target)
		}
	case store.ActForwardUser:
		if !extPattern.MatchString(s.Target) {
			return fmt.Errorf("%q is not an extension (2 to 7 digits, not starting with 0)", s.Target)
		}
	case store.ActForwardNumber:
		if !outsideNumber.MatchString(s.Target) {
			return fmt.Errorf("%q is not a phone number: digits only, optionally a leading +", s.Target)
		}
	case store.ActForwardSIP:
		if !sipAddrPattern.MatchString(s.Target) {
			return fmt.Errorf("%q is not a SIP address such as sip:help@example.com", s.Target)
		}
	}
	return nil
}

func actionList() string {
	s := make([]string, len(store.Actions))
	for i, a := range store.Actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// CheckForwardTarget reports whether target can be a forwarding
// destination: an extension or an outside number (digits, optionally a
// leading +). "" switches forwarding off.
func CheckForwardTarget(target string) error {
	if target == "" || outsideNumber.MatchString(target) {
		return nil
	}
	return errorf(http.StatusBadRequest, "forward target %q: want an extension or a phone number (digits only, optionally a leading +)", target)
}

// CheckTimeZone reports whether zone is an IANA time zone name the binary knows.
func CheckTimeZone(zone string) (*time.Location, error) {
	if zone == "" || zone == "Local" || strings.TrimSpace(zone) != zone {
		return nil, errorf(http.StatusBadRequest, "time zone %q: want an IANA name such as Europe/Berlin or UTC", zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "unknown time zone %q: want an IANA name such as Europe/Berlin, America/New_York or UTC", zone)
	}
	return loc, nil
}

// findRule returns the index of the rule ref names: its 1-based number, or
// its name (case does not matter).
func findRule(rules []store.AnsweringRule, ref string) (int, error) {
	ref = strings.TrimSpace(ref)
	if ruleNumberRegex.MatchString(ref) {
		n, err := strconv.Atoi(ref)
		if err != nil || n < 1 || n > len(rules) {
			return 0, errorf(http.StatusBadRequest, "there is no rule %s (%s)", ref, countRules(len(rules)))
		}
		return n - 1, nil
	}
	for i, r := range rules {
		if strings.EqualFold(r.Name, ref) {
			return i, nil
		}
	}
	return 0, errorf(http.StatusBadRequest, "there is no rule named %q (%s)", ref, countRules(len(rules)))
}

func countRules(n int) string {
	switch n {
	case 0:
		return "the user has no rules"
	case 1:
		return "the user has 1 rule"
	}
	return fmt.Sprintf("the user has %d rules", n)
}

// frameID makes a time frame id from its name: lower case letters, digits
// and dashes, prefixed by the owner's extension for a user's own frame.
func frameID(owner, name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.Trim(b.String(), "-")
	if id == "" {
		id = "frame"
	}
	if owner != "" {
		id = owner + "-" + id
	}
	if len(id) > maxFrameID-4 { // room for a "-NNN" suffix
		id = strings.TrimRight(id[:maxFrameID-4], "-")
	}
	return id
}
