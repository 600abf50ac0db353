package call

import (
	"errors"
	"strings"

	"switchboard/media"
)

var errNoWebRTC = errors.New("a browser's WebRTC offer, and no WebRTC gateway")

// A webphone leg is a leg whose phone is a browser: its SDP speaks WebRTC
// (ICE, DTLS-SRTP) and the gateway stands between it and the leg's plain
// RTP endpoint. Everything else — bridging, hold, music, voicemail,
// digits — works on the endpoint as for a desk phone; only the SDP passes
// through the gateway's translation both ways (see media/webrtc).

// isBrowserSDP reports whether an offer or answer is WebRTC's (DTLS-SRTP).
func isBrowserSDP(d media.SessionDesc) bool {
	return strings.Contains(d.Proto, "SAVP")
}

// fromPhone returns the plain description of an SDP body the leg's phone
// sent: as it is for a desk phone; through the gateway for a browser,
// which this makes the leg when its first WebRTC offer arrives.
func (c *Call) fromPhone(l *leg, body []byte) (media.SessionDesc, error) {
	d, err := media.ParseSDP(body)
	if err != nil {
		return d, err
	}
	if l.web == nil && isBrowserSDP(d) {
		if c.m.deps.WebRTC == nil {
			return d, errNoWebRTC
		}
		if l.web, err = c.m.deps.WebRTC.NewLeg(); err != nil {
			return d, err
		}
	}
	if l.web == nil {
		return d, nil
	}
	plain, err := l.web.FromBrowser(body)
	if err != nil {
		return d, err
	}
	return media.ParseSDP(plain)
}

// toPhone renders our description for the leg's phone: plain SDP, or the
// gateway's WebRTC offer or answer for a browser.
func (l *leg) toPhone(plain []byte) []byte {
	if l.web == nil {
		return plain
	}
	sdp, err := l.web.ToBrowser(plain)
	if err != nil {
		l.call.log.Warn("webrtc description", "device", l.device, "err", err)
		return plain
	}
	return sdp
}

// closeMedia ends the leg's endpoint and, for a browser, its gateway leg.
func (l *leg) closeMedia() {
	if l.ep != nil {
		l.ep.Close()
	}
	if l.web != nil {
		l.web.Close()
	}
}
