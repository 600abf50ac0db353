package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ParseSDP reads the first audio stream of an SDP body (RFC 4566).
//
// It reads line by line and ignores what it does not need, so it accepts the
// small deviations real devices make (LF line ends, c= after t=, c= after the
// a= lines, no t=). It knows:
//   - c= at media level, else at session level (required unless the port is 0);
//   - m=audio: port (0 = rejected stream, returned without error), transport,
//     and the payload types: 0 and 8 are PCMU and PCMA with or without rtpmap;
//     the first telephone-event/8000 rtpmap gives DTMFPT;
//   - a=sendrecv|sendonly|recvonly|inactive at media level, else session level;
//   - a=ptime.
//
// Old-style hold (RFC 2543: c=0.0.0.0) keeps Addr 0.0.0.0 and turns the
// direction into one that does not receive: sendrecv becomes sendonly,
// recvonly becomes inactive. (Not with ICE, where 0.0.0.0 means "see the
// candidates".)
func ParseSDP(body []byte) (SessionDesc, error) {
	var p sdpParser
	for line := range bytes.Lines(body) {
		if err := p.line(strings.TrimRight(string(line), " \t\r\n")); err != nil {
			return SessionDesc{}, err
		}
	}
	return p.finish()
}

// sdpLevel holds what can appear at session level and again in a stream.
type sdpLevel struct {
	addr      netip.Addr
	direction Direction
	hasDir    bool
	ptime     int
}

type sdpParser struct {
	session, audio sdpLevel
	state          int // sdpSession, sdpAudio, sdpDone (after the first audio stream)
	desc           SessionDesc
	formats        []uint8
	rtpmap         map[uint8]string // payload type → "name/rate" as written
	ice            bool             // a=ice-ufrag seen: 0.0.0.0 means "no candidate yet", not hold
}

const (
	sdpSession = iota
	sdpAudio
	sdpOther // in a stream before the first audio one
	sdpDone
)

func (p *sdpParser) line(l string) error {
	if len(l) < 2 || l[1] != '=' || p.state == sdpDone {
		return nil
	}
	kind, val := l[0], l[2:]
	if kind == 'm' {
		return p.media(val)
	}
	level := p.level()
	if level == nil {
		return nil
	}
	switch kind {
	case 'c':
		return p.connection(level, val)
	case 'a':
		p.attribute(level, val)
	}
	return nil
}

func (p *sdpParser) level() *sdpLevel {
	switch p.state {
	case sdpSession:
		return &p.session
	case sdpAudio:
		return &p.audio
	}
	return nil
}

// media handles "m=<media> <port>[/<n>] <proto> <fmt> ...".
func (p *sdpParser) media(val string) error {
	if p.state == sdpAudio {
		p.state = sdpDone
		return nil
	}
	f := strings.Fields(val)
	if len(f) == 0 || f[0] != "audio" {
		p.state = sdpOther
		return nil
	}
	if len(f) < 3 {
		return fmt.Errorf("%w: m=%s", ErrMalformedSDP, val)
	}
	port, err := strconv.ParseUint(strings.SplitN(f[1], "/", 2)[0], 10, 16)
	if err != nil {
		return fmt.Errorf("%w: m= port %q", ErrMalformedSDP, f[1])
	}
	p.state, p.desc.Port, p.desc.Proto = sdpAudio, int(port), f[2]
	for _, s := range f[3:] {
		if pt, err := strconv.ParseUint(s, 10, 7); err == nil {
			p.formats = append(p.formats, uint8(pt))
		}
	}
	return nil
}

// connection handles "c=IN IP4 <addr>[/<ttl>[/<n>]]" (and IP6).
func (p *sdpParser) connection(level *sdpLevel, val string) error {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return fmt.Errorf("%w: c=%s", ErrMalformedSDP, val)
	}
	addr, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
	if err != nil {
		return fmt.Errorf("%w: c= address %q (host names are not resolved)", ErrMalformedSDP, f[2])
	}
	level.addr = addr.Unmap()
	return nil
}

func (p *sdpParser) attribute(level *sdpLevel, val string) {
	name, arg, _ := strings.Cut(val, ":")
	if d, ok := parseDirection(name); ok {
		level.direction, level.hasDir = d, true
		return
	}
	switch name {
	case "ptime": // a bad value is ignored: ptime is only a hint
		if ms, err := strconv.Atoi(strings.TrimSpace(arg)); err == nil && ms > 0 && ms <= 1000 {
			level.ptime = ms
		}
	case "ice-ufrag":
		p.ice = true
	case "rtpmap":
		if level == &p.audio {
			p.addRtpmap(arg)
		}
	}
}

// addRtpmap records "<pt> <name>/<rate>[/<channels>]"; malformed ones are ignored.
func (p *sdpParser) addRtpmap(arg string) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(arg), " ")
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if !ok || err != nil {
		return
	}
	if p.rtpmap == nil {
		p.rtpmap = make(map[uint8]string)
	}
	if _, dup := p.rtpmap[uint8(pt)]; !dup {
		p.rtpmap[uint8(pt)] = strings.TrimSpace(enc)
	}
}

func (p *sdpParser) finish() (SessionDesc, error) {
	if p.state != sdpAudio && p.state != sdpDone {
		return SessionDesc{}, ErrNoAudio
	}
	d := p.desc
	d.Addr = pick(p.audio.addr, p.session.addr, p.audio.addr.IsValid())
	if !d.Addr.IsValid() && d.Port != 0 {
		return SessionDesc{}, ErrNoConnection
	}
	d.Direction = pick(p.audio.direction, p.session.direction, p.audio.hasDir)
	d.Ptime = pick(p.audio.ptime, p.session.ptime, p.audio.ptime != 0)
	if d.Addr.IsValid() && d.Addr.IsUnspecified() && !p.ice {
		d.Direction = oldStyleHold(d.Direction)
	}
	d.Codecs, d.DTMFPT = p.codecs()
	return d, nil
}

// codecs returns the G.711 codecs of the m= line in order, and the first
// telephone-event/8000 payload type.
func (p *sdpParser) codecs() (codecs []Codec, dtmf uint8) {
	for _, pt := range p.formats {
		c := Codec(pt)
		switch {
		case c.Valid() && !slices.Contains(codecs, c):
			codecs = append(codecs, c)
		case dtmf == 0 && isTelephoneEvent(p.rtpmap[pt]):
			dtmf = pt
		}
	}
	return codecs, dtmf
}

func isTelephoneEvent(enc string) bool {
	name, rate, _ := strings.Cut(enc, "/")
	rate, _, _ = strings.Cut(rate, "/")
	return strings.EqualFold(name, "telephone-event") && rate == "8000"
}

func oldStyleHold(d Direction) Direction {
	switch d {
	case SendRecv:
		return SendOnly
	case RecvOnly:
		return Inactive
	}
	return d
}

func pick[T any](media, session T, useMedia bool) T {
	if useMedia {
		return media
	}
	return session
}
