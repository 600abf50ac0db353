// Package ivr is the seam between a call answered by the switch itself and
// the application that talks to the caller (voicemail, the voicemail menu,
// greeting recording, "not available" messages). switch/call implements
// Session on the caller's leg; applications only see this interface, so
// they are tested with a scripted fake and run unchanged on real calls.
package ivr

import (
	"context"
	"errors"
	"time"
)

// ErrHangup is returned by every Session method once the caller hung up
// (or the switch is shutting down). Applications stop when they see it.
var ErrHangup = errors.New("caller hung up")

// Caller is who is on the line.
type Caller struct {
	Device string // the calling device ("200b"); "" for a caller from outside
	Number string // the caller's extension or external number
	Name   string // display name, may be empty
	Dialed string // what the caller dialled ("*97", "200")
	CallID string // the call's SIP Call-ID, to link a voicemail to its call record
}

// Session is the caller's answered leg.
type Session interface {
	Caller() Caller
	// Play plays the 8 kHz μ-law clips one after the other and returns when
	// they end. With interrupt, a DTMF digit pressed meanwhile stops the
	// playback and is returned (and consumed); otherwise digits stay queued.
	Play(ctx context.Context, interrupt bool, clips ...[]byte) (digit byte, err error)
	// ReadDigit returns the next DTMF digit (RFC 4733 or SIP INFO), or 0
	// when none arrives within timeout. Digits pressed earlier are queued.
	ReadDigit(ctx context.Context, timeout time.Duration) (byte, error)
	// Record records what the caller says as 8 kHz μ-law until one of the
	// stop digits is pressed, max is reached or the caller hangs up (then it
	// returns the audio so far and ErrHangup). The stop digit is consumed.
	Record(ctx context.Context, max time.Duration, stop string) ([]byte, error)
}

// ReadDigits collects up to n digits ending early at a '#', with timeout
// between digits. It returns what was pressed without the '#'.
func ReadDigits(ctx context.Context, s Session, n int, timeout time.Duration) (string, error) {
	var out []byte
	for len(out) < n {
		d, err := s.ReadDigit(ctx, timeout)
		if err != nil {
			return string(out), err
		}
		if d == 0 || d == '#' {
			break
		}
		out = append(out, d)
	}
	return string(out), nil
}
