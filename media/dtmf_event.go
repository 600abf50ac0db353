package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Event is one RFC 4733 telephone-event payload:
//
//	event (8) | E (1) | R (1) | volume (6) | duration (16)
//
// One key press is a series of packets with the same RTP timestamp and a
// growing Duration; the last ones (usually three) have End set.
type Event struct {
	Code     uint8  // 0–9 digits, 10 '*', 11 '#', 12–15 'A'–'D', 16 flash
	End      bool   // the event has ended
	Volume   uint8  // power level, 0 to 63 meaning 0 to -63 dBm0
	Duration uint16 // in timestamp units (1/8000 s) since the event began
}

// EventSize is the size of one encoded [Event].
const EventSize = 4

// ErrShortEvent means a telephone-event payload shorter than 4 bytes.
var ErrShortEvent = errors.New("media: telephone-event payload shorter than 4 bytes")

const eventDigits = "0123456789*#ABCD"

// ParseEvent decodes the first event of a telephone-event payload. The
// reserved bit is ignored, as RFC 4733 asks of receivers.
func ParseEvent(p []byte) (Event, error) {
	if len(p) < EventSize {
		return Event{}, fmt.Errorf("%w (got %d)", ErrShortEvent, len(p))
	}
	return Event{
		Code:     p[0],
		End:      p[1]&0x80 != 0,
		Volume:   p[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(p[2:4]),
	}, nil
}

// AppendTo appends the encoded event to b. Volume is cut to 6 bits.
func (e Event) AppendTo(b []byte) []byte {
	flags := e.Volume & 0x3F
	if e.End {
		flags |= 0x80
	}
	return binary.BigEndian.AppendUint16(append(b, e.Code, flags), e.Duration)
}

// Digit returns the DTMF key of the event: '0'–'9', '*', '#', 'A'–'D'.
// ok is false for other events (flash, tones).
func (e Event) Digit() (key rune, ok bool) {
	if int(e.Code) >= len(eventDigits) {
		return 0, false
	}
	return rune(eventDigits[e.Code]), true
}

// EventCode returns the event code of a DTMF key ('0'–'9', '*', '#', 'A'–'D',
// also 'a'–'d').
func EventCode(key rune) (code uint8, ok bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i, d := range eventDigits {
		if d == key {
			return uint8(i), true
		}
	}
	return 0, false
}
