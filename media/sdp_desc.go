package media

import (
	"errors"
	"net/netip"
	"slices"
)

// SessionDesc is what the switch needs of an SDP body: the first audio
// stream. It is both the result of [ParseSDP] and the input of [BuildSDP].
type SessionDesc struct {
	Addr      netip.Addr // c= of the audio stream (media level, else session level)
	Port      int        // m= port; 0 means the stream is rejected or disabled
	Codecs    []Codec    // the G.711 codecs of the m= line, in the offer's order
	DTMFPT    uint8      // payload type of telephone-event/8000; 0 means none
	Direction Direction  // as written by the SDP's author (see ParseSDP for old-style hold)
	Ptime     int        // a=ptime in ms; 0 if absent
	Proto     string     // m= transport, e.g. "RTP/AVP"; BuildSDP writes RTP/AVP when empty
}

// AddrPort is where the author of the SDP wants to receive RTP.
func (d SessionDesc) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(d.Addr, uint16(d.Port))
}

// Direction is an SDP media direction attribute, from the point of view of
// the SDP's author.
type Direction int

// The four directions of RFC 3264 section 5.1. SendRecv is the default.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

var directionNames = [...]string{"sendrecv", "sendonly", "recvonly", "inactive"}

// String returns the SDP attribute name, e.g. "sendonly".
func (d Direction) String() string {
	if d < 0 || int(d) >= len(directionNames) {
		return "Direction(" + itoa(int(d)) + ")"
	}
	return directionNames[d]
}

// Reverse is the direction an answer gives to an offer with d: sendonly is
// answered with recvonly and the other way round.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Sends reports whether the author of the SDP will send media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the author of the SDP wants to receive media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

func parseDirection(s string) (Direction, bool) {
	i := slices.Index(directionNames[:], s)
	return Direction(i), i >= 0
}

// Errors of SDP handling; ParseSDP wraps them with details.
var (
	ErrNoAudio          = errors.New("sdp: no audio stream")
	ErrNoConnection     = errors.New("sdp: no connection address for the audio stream")
	ErrMalformedSDP     = errors.New("sdp: malformed line")
	ErrStreamRejected   = errors.New("sdp: audio stream rejected (port 0)")
	ErrUnsupportedProto = errors.New("sdp: unsupported media transport")
	ErrNoCommonCodec    = errors.New("sdp: no common codec")
)

// Negotiate picks the first codec of the offer that is in supported. It fails
// with ErrStreamRejected for a disabled stream, ErrUnsupportedProto for
// anything but plain RTP/AVP(F) (e.g. SRTP), and ErrNoCommonCodec.
func Negotiate(offer SessionDesc, supported []Codec) (Codec, error) {
	if offer.Port == 0 {
		return 0, ErrStreamRejected
	}
	if offer.Proto != "" && offer.Proto != "RTP/AVP" && offer.Proto != "RTP/AVPF" {
		return 0, ErrUnsupportedProto
	}
	for _, c := range offer.Codecs {
		if slices.Contains(supported, c) {
			return c, nil
		}
	}
	return 0, ErrNoCommonCodec
}
