// Package webrtc is the WebRTC gateway: it terminates a browser's media
// (ICE on the LAN with host candidates only, DTLS-SRTP) with pion and
// relays the decrypted G.711 RTP to and from one of the switch's plain RTP
// endpoints, so to the B2BUA a webphone leg is a leg like any other.
//
// Each browser leg is a [Leg]: a pion PeerConnection and a UDP socket on
// the loopback address that stands, towards the switch's endpoint, for the
// browser. The leg translates SDP both ways: what the browser sends becomes
// a plain RTP/AVP description of that socket (FromBrowser), and the
// switch's plain description for the leg becomes a WebRTC offer or answer
// (ToBrowser). G.711 and telephone-event keep their payload types end to
// end, so nothing is transcoded and RFC 4733 digits pass both ways; only
// the SSRC is rewritten to the one negotiated with the browser.
//
// Every browser's ICE, DTLS and SRTP share one UDP port (an ICE UDP mux),
// so a firewall needs one rule for the webphone's media.
package webrtc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	pion "github.com/pion/webrtc/v4"
)

// Config says where browsers send their media.
type Config struct {
	// Addr is host:port of the one UDP socket for every browser's media.
	// An unspecified host offers a host candidate on every interface.
	Addr string
	Log  *slog.Logger
}

// Gateway makes browser legs. Close it at shutdown, after its legs.
type Gateway struct {
	api  *pion.API
	conn net.PacketConn
	mux  *ice.UDPMuxDefault
	log  *slog.Logger

	mu   sync.Mutex
	legs map[*Leg]struct{}
}

// Codecs the gateway negotiates with a browser: G.711 as the switch's
// phones speak it, and telephone-event for the keypad.
var codecs = []pion.RTPCodecParameters{
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: 101},
}

const mimeTelephoneEvent = "audio/telephone-event"

// New opens the media socket and prepares pion.
func New(cfg Config) (*Gateway, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	conn, err := net.ListenPacket("udp4", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("webrtc media socket %s: %w", cfg.Addr, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		uc.SetReadBuffer(4 << 20) // every browser shares this socket
		uc.SetWriteBuffer(4 << 20)
	}
	logs := quietLogs()
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: logs.NewLogger("udpmux")})

	m := &pion.MediaEngine{}
	for _, c := range codecs {
		if err := m.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			conn.Close()
			return nil, err
		}
	}
	var s pion.SettingEngine
	s.LoggerFactory = logs
	s.SetICEUDPMux(mux)
	s.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	// A browser on the switch's own box (and the tests) reaches it on loopback.
	s.SetIncludeLoopbackCandidate(true)
	return &Gateway{api: pion.NewAPI(pion.WithMediaEngine(m), pion.WithSettingEngine(s)), conn: conn, mux: mux,
		log: log, legs: map[*Leg]struct{}{}}, nil
}

// Addr is the media socket's address.
func (g *Gateway) Addr() net.Addr { return g.conn.LocalAddr() }

// Legs returns how many browser legs are open.
func (g *Gateway) Legs() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.legs)
}

// Close closes every open leg and the media socket.
func (g *Gateway) Close() error {
	g.mu.Lock()
	legs := make([]*Leg, 0, len(g.legs))
	for l := range g.legs {
		legs = append(legs, l)
	}
	g.mu.Unlock()
	for _, l := range legs {
		l.Close()
	}
	return errors.Join(g.mux.Close(), g.conn.Close())
}

// quietLogs keeps pion's own logging to errors: its warnings about
// candidates of interfaces a LAN browser cannot reach are noise.
func quietLogs() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelError
	return f
}
