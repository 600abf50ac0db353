package store

import (
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// CallHandling is how calls to one user's extension are answered: do not
// disturb, an unconditional forward set by feature code, and the ordered
// answering rules. switch/route reads it; the first rule whose time frame
// matches wins.
type CallHandling struct {
	Ext       string          `json:"ext"`
	DND       bool            `json:"dnd,omitempty"`        // calls go to voicemail (or "not available")
	ForwardTo string          `json:"forward_to,omitempty"` // set with the forward feature code: an extension or number
	Rules     []AnsweringRule `json:"rules,omitempty"`
}

// AnsweringRule is one "calls to me" rule: First do this → If no answer →
// the "not available" message and hang up.
type AnsweringRule struct {
	Name       string   `json:"name"`
	TimeFrame  string   `json:"time_frame,omitempty"` // a TimeFrame id; "" = at any time
	Disabled   bool     `json:"disabled,omitempty"`
	First      RuleStep `json:"first"`
	IfNoAnswer RuleStep `json:"if_no_answer"` // Action "" = straight to "not available"
}

// Action is what a rule step does.
type Action string

const (
	ActRingMyPhones   Action = "ring_my_phones"   // the user's enabled phones
	ActRingAllPhones  Action = "ring_all_phones"  // every phone, disabled ones too
	ActRingIPPhones   Action = "ring_ip_phones"   // enabled SIP phones only, no external phones
	ActRingPhone      Action = "ring_phone"       // one named device (Target)
	ActVoicemail      Action = "voicemail"        // the user's voicemail box
	ActForwardUser    Action = "forward_user"     // another user's extension (Target), by their rules
	ActForwardNumber  Action = "forward_external" // an external number (Target) through the trunk
	ActForwardSIP     Action = "forward_sip"      // a SIP address (Target, sip:user@host)
	ActForwardService Action = "forward_service"  // an auto attendant or queue (Target extension)
	ActDisconnect     Action = "disconnect"       // the "not available" message, then hang up
)

// Actions lists every action in the order the UI offers them.
var Actions = []Action{ActRingMyPhones, ActRingAllPhones, ActRingIPPhones, ActRingPhone, ActVoicemail,
	ActForwardUser, ActForwardNumber, ActForwardService, ActForwardSIP, ActDisconnect}

// Rings reports whether the action rings something (and so has a duration).
func (a Action) Rings() bool {
	switch a {
	case ActRingMyPhones, ActRingAllPhones, ActRingIPPhones, ActRingPhone, ActForwardNumber, ActForwardSIP:
		return true
	}
	return false
}

// NeedsTarget reports whether the action needs RuleStep.Target.
func (a Action) NeedsTarget() bool {
	switch a {
	case ActRingPhone, ActForwardUser, ActForwardNumber, ActForwardSIP, ActForwardService:
		return true
	}
	return false
}

// Default ring durations of a step (SPEC §2).
const (
	DefaultRingSecondsPhones   = 12 // three rings on IP phones
	DefaultRingSecondsExternal = 40
)

// RuleStep is one step of a rule.
type RuleStep struct {
	Action      Action `json:"action,omitempty"`
	Target      string `json:"target,omitempty"`       // device, extension, number or SIP address
	RingSeconds int    `json:"ring_seconds,omitempty"` // 0 = the default for the action
	// ShowCalled displays the number the caller dialled instead of the
	// caller's number on the ringing phone.
	ShowCalled bool `json:"show_called,omitempty"`
}

// RingFor is the step's ring duration in seconds.
func (s RuleStep) RingFor() int {
	switch {
	case s.RingSeconds > 0:
		return s.RingSeconds
	case s.Action == ActForwardNumber:
		return DefaultRingSecondsExternal
	}
	return DefaultRingSecondsPhones
}

// Validate checks a step on its own; an empty step is valid (nothing to do).
func (s RuleStep) Validate() error {
	if s.Action == "" {
		return nil
	}
	known := false
	for _, a := range Actions {
		known = known || a == s.Action
	}
	switch {
	case !known:
		return fmt.Errorf("unknown action %q (one of %s)", s.Action, joinActions())
	case s.Action.NeedsTarget() && strings.TrimSpace(s.Target) == "":
		return fmt.Errorf("action %s needs a target", s.Action)
	case !s.Action.NeedsTarget() && s.Target != "":
		return fmt.Errorf("action %s takes no target", s.Action)
	case s.RingSeconds < 0 || s.RingSeconds > 600:
		return errors.New("ring time must be between 1 and 600 seconds")
	case s.Action == ActForwardSIP && !strings.HasPrefix(s.Target, "sip:"):
		return fmt.Errorf("SIP address %q must start with sip:", s.Target)
	}
	return nil
}

// Validate checks a rule's own fields (not whether its time frame exists).
func (r AnsweringRule) Validate() error {
	if r.First.Action == "" {
		return errors.New("a rule needs a First do this action")
	}
	if err := r.First.Validate(); err != nil {
		return fmt.Errorf("first: %w", err)
	}
	if err := r.IfNoAnswer.Validate(); err != nil {
		return fmt.Errorf("if no answer: %w", err)
	}
	if !r.First.Action.Rings() && r.First.Action != ActForwardUser && r.IfNoAnswer.Action != "" {
		return fmt.Errorf("nothing follows %s: leave If no answer empty", r.First.Action)
	}
	return nil
}

func joinActions() string {
	s := make([]string, len(Actions))
	for i, a := range Actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// CallHandling returns how calls to ext are handled; a user who set
// nothing gets the zero record (no rules, DND off).
func (s *Store) CallHandling(ext string) (CallHandling, error) {
	h := CallHandling{Ext: ext}
	err := s.view(func(tx *bolt.Tx) error {
		err := getJSON(tx.Bucket(bucketHandling), ext, &h)
		if errors.Is(err, ErrNotFound) {
			if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
				return ErrNotFound
			}
			return nil
		}
		return err
	})
	return h, err
}

// UpdateCallHandling applies change to ext's record atomically; the user must exist.
func (s *Store) UpdateCallHandling(ext string, change func(*CallHandling) error) (CallHandling, error) {
	var h CallHandling
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bucketHandling)
		if err := getJSON(b, ext, &h); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := change(&h); err != nil {
			return err
		}
		h.Ext = ext
		for i, r := range h.Rules {
			if err := r.Validate(); err != nil {
				return BadValue("rule %d: %v", i+1, err)
			}
			if r.TimeFrame != "" && tx.Bucket(bucketTimeFrames).Get([]byte(r.TimeFrame)) == nil {
				return BadValue("rule %d: no time frame %q", i+1, r.TimeFrame)
			}
		}
		return putJSON(b, ext, h)
	})
	return h, err
}

// valueError is an ErrBadValue with its own message.
type valueError struct{ msg string }

func (e *valueError) Error() string        { return e.msg }
func (e *valueError) Is(target error) bool { return target == ErrBadValue }

// BadValue returns an error that is ErrBadValue and reads as the message.
func BadValue(format string, args ...any) error {
	return &valueError{fmt.Sprintf(format, args...)}
}
