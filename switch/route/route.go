// Package route decides what a call should do: (caller, dialled string,
// time) → a Plan. It is pure — it reads records through Directory and never
// sends SIP — so every decision is table-tested and can be shown in the UI.
// switch/call carries the plan out.
package route

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/store"
)

// Directory is the read-only view of users and devices routing needs.
type Directory interface {
	User(ext string) (store.User, error)
	Devices(ext string) ([]store.Device, error)
}

// Input is one call to route.
type Input struct {
	CallerDevice string // the calling device ("200b"); "" when the call came from outside
	Dialled      string // the user part of the Request-URI
}

// Settings are the organisation-wide routing defaults.
type Settings struct {
	RingTime time.Duration // how long extensions ring before the call gives up
}

// DefaultSettings are used where the organisation set nothing.
var DefaultSettings = Settings{RingTime: 30 * time.Second}

// Kind is what a plan does.
type Kind int

const (
	RingDevices Kind = iota + 1 // ring Devices in parallel for RingTime
	NotFound                    // no such extension (404)
	Unavailable                 // the extension exists but cannot take calls now (480)
)

func (k Kind) String() string {
	switch k {
	case RingDevices:
		return "ring"
	case NotFound:
		return "not-found"
	case Unavailable:
		return "unavailable"
	}
	return "unknown"
}

// Plan is the decision for one call.
type Plan struct {
	Kind     Kind
	Ext      string        // the extension reached
	Name     string        // its user's name, for display
	Devices  []string      // enabled devices to ring, in order
	RingTime time.Duration // with RingDevices
	Reason   string        // why, in words, for logs and the UI
}

// String renders a plan on one line (golden tests, logs).
func (p Plan) String() string {
	switch p.Kind {
	case RingDevices:
		return fmt.Sprintf("ring %s for %s", strings.Join(p.Devices, ","), p.RingTime)
	default:
		return fmt.Sprintf("%s: %s", p.Kind, p.Reason)
	}
}

// Route turns a call into a plan. now will select answering rules by time
// frame; today every extension rings its enabled devices.
func Route(in Input, dir Directory, s Settings, now time.Time) (Plan, error) {
	if s.RingTime <= 0 {
		s.RingTime = DefaultSettings.RingTime
	}
	ext := strings.TrimSpace(in.Dialled)
	if !isExtension(ext) {
		return Plan{Kind: NotFound, Reason: fmt.Sprintf("%q is not an extension", in.Dialled)}, nil
	}
	u, err := dir.User(ext)
	if errors.Is(err, store.ErrNotFound) {
		return Plan{Kind: NotFound, Ext: ext, Reason: "no user has extension " + ext}, nil
	}
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Ext: ext, Name: u.Name()}
	if u.Disabled {
		plan.Kind, plan.Reason = Unavailable, "user "+ext+" is disabled"
		return plan, nil
	}
	devices, err := dir.Devices(ext)
	if err != nil {
		return Plan{}, err
	}
	for _, d := range devices {
		// A phone never rings itself when its user calls their own extension.
		if !d.Disabled && d.ID != in.CallerDevice {
			plan.Devices = append(plan.Devices, d.ID)
		}
	}
	if len(plan.Devices) == 0 {
		plan.Kind, plan.Reason = Unavailable, "extension "+ext+" has no other enabled device"
		return plan, nil
	}
	plan.Kind, plan.RingTime = RingDevices, s.RingTime
	plan.Reason = "extension " + ext
	return plan, nil
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
