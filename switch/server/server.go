// Package server builds the sipgo user agent, opens the SIP listeners (UDP
// and TCP on one port) and hands each request to the package that owns it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/webrtc"
	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/presence"
	"switchboard/switch/registrar"
	"switchboard/switch/route"
	"switchboard/switch/voicemail"
)

// Config says where the switch listens.
type Config struct {
	Addr       string // host:port for UDP and TCP; port 0 picks a free one
	UserAgent  string
	Registrar  registrar.Config
	AuthLimits auth.Limits   // zero: auth.DefaultLimits
	Digest     []string      // challenge algorithms in order; default MD5 alone (see auth.Config)
	KeepAlive  time.Duration // NAT keep-alive period for UDP phones (default 25 s)
	// WebSessionCheck is how often each webphone socket's web session is
	// checked, to close the socket once its user logged out (default 15 s).
	WebSessionCheck time.Duration
	// AdvertiseIP is the address phones are told to use (Contact, Via, SDP).
	// Default: the SIP listen host, or the first LAN address when that is 0.0.0.0.
	AdvertiseIP string
	Calls       call.Config
	Media       *media.Engine   // nil: no calls, registrar only
	WebRTC      *webrtc.Gateway // browsers' media (the webphone); nil: browsers cannot call
	Voicemail   call.Voicemail  // replaces the voicemail applications (tests)
	// BuiltinVoicemail lets calls reach the switch's own voicemail
	// (Server.Voicemail) when Voicemail is nil; serve sets it. Without
	// either, calls have no voicemail (a call nobody answers gets 480).
	BuiltinVoicemail bool
}

// Server is the running SIP side of the switch.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	reg   *registrar.Registrar
	st    *store.Store
	bus   *event.Bus
	authn *auth.Authenticator
	calls *call.Manager
	pres  *presence.Service
	vm    *voicemail.Voicemail
	udp   net.PacketConn
	tcp   net.Listener
	mu    sync.Mutex
	ws    *connListener // SIP over WebSocket from the HTTPS server; nil until WebSocket
	// stateless answers REGISTER over UDP from sipgo's read loop (stateless.go).
	stateless statelessUDP
	wg        sync.WaitGroup
	once      sync.Once
}

// New assembles the switch on an open store: digest auth with the store's
// realm and nonce key, the registrar with its saved bindings, and the sipgo
// user agent with the request handlers.
func New(cfg Config, st *store.Store, bus *event.Bus, log *slog.Logger) (*Server, error) {
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Switchboard"
	}
	realm, err := st.SIPRealm()
	if err != nil {
		return nil, err
	}
	secret, err := st.NonceSecret()
	if err != nil {
		return nil, err
	}
	if err := st.LoadSecrets(); err != nil { // now, not on the first REGISTER
		return nil, fmt.Errorf("load device secrets: %w", err)
	}
	authn := auth.New(auth.Config{Realm: realm, Secret: secret, Limits: cfg.AuthLimits, Algorithms: cfg.Digest})
	reg := registrar.New(cfg.Registrar, authn, registrar.StoreDirectory{Store: st}, st, bus, log)
	if err := reg.Load(); err != nil {
		return nil, fmt.Errorf("load registrations: %w", err)
	}
	sipLog := sipgoLogger(log, time.Now)
	s := &Server{cfg: cfg, log: log, reg: reg, st: st, bus: bus, authn: authn,
		stateless: statelessUDP{parser: sip.NewParser()}}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.readFilter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			// sipgo's default logs each stray response at Info, to slog.Default.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				sipLog.Debug("response matches no transaction", "response", r.Short(), "source", r.Source())
			})))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, err
	}
	s.ua, s.srv = ua, srv
	srv.OnRegister(reg.HandleRegister)
	srv.OnOptions(s.options)
	return s, nil
}

// startCalls builds the B2BUA once the listeners' addresses are known: its
// Contact, Via and the UDP source socket all name them.
func (s *Server) startCalls() error {
	if s.cfg.Media == nil {
		return nil
	}
	port := s.udp.LocalAddr().(*net.UDPAddr).Port
	host := s.AdvertiseIP()
	udpCli, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(host),
		sipgo.WithClientConnectionAddr(s.udp.LocalAddr().String()))
	if err != nil {
		return err
	}
	streamCli, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(host))
	if err != nil {
		return err
	}
	contact := func(transport string) sip.ContactHeader {
		u := sip.Uri{Scheme: "sip", User: "switchboard", Host: host, Port: port}
		if transport != "" {
			u.UriParams = sip.NewParams()
			u.UriParams.Add("transport", transport)
		}
		return sip.ContactHeader{Address: u}
	}
	if s.cfg.Calls.Routing.Features == nil {
		var codes map[string]route.Code
		if err := s.st.Setting(route.FeatureCodesKey, &codes); err == nil {
			if err := route.CheckFeatures(codes); err != nil {
				return fmt.Errorf("feature codes setting: %w", err)
			}
			s.cfg.Calls.Routing.Features = codes
		}
	}
	s.calls = call.New(s.cfg.Calls, call.Deps{
		Auth:        s.authn,
		Credentials: registrar.StoreDirectory{Store: s.st},
		Locator:     s.reg,
		Directory:   s.st,
		Media:       s.cfg.Media,
		WebRTC:      s.cfg.WebRTC,
		Records:     s.st,
		Handling:    s.st,
		Voicemail:   s.voicemailApps(),
		Bus:         s.bus,
		Log:         s.log,
		UDP:         &sipgo.DialogUA{Client: udpCli, ContactHDR: contact(""), RewriteContact: true},
		Stream:      &sipgo.DialogUA{Client: streamCli, ContactHDR: contact("tcp"), RewriteContact: true},
	})
	s.srv.OnInvite(s.calls.HandleInvite)
	s.srv.OnAck(s.calls.HandleAck)
	s.srv.OnBye(s.calls.HandleBye)
	s.srv.OnUpdate(s.calls.HandleInDialog)
	s.srv.OnInfo(s.calls.HandleInDialog)
	s.srv.OnRefer(s.calls.HandleRefer)
	return nil
}

// Calls is the B2BUA (nil without media).
func (s *Server) Calls() *call.Manager { return s.calls }

// ActiveCalls is how many calls are in progress (for metrics).
func (s *Server) ActiveCalls() int {
	if s.calls == nil {
		return 0
	}
	return s.calls.Count()
}

// RTP returns the media relay's packet counters since the start and the
// endpoints open now (for metrics).
func (s *Server) RTP() (in, out, ignored uint64, endpoints int) {
	if s.cfg.Media == nil {
		return 0, 0, 0, 0
	}
	t := s.cfg.Media.Totals()
	return t.PacketsIn, t.PacketsOut, t.Ignored, s.cfg.Media.Open()
}

// AdvertiseIP is the address the switch tells phones to use.
func (s *Server) AdvertiseIP() string {
	if s.cfg.AdvertiseIP != "" {
		return s.cfg.AdvertiseIP
	}
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return host
	}
	return LANAddress()
}

// LANAddress is the first non-loopback IPv4 address of this machine, or
// 127.0.0.1 when it has none.
func LANAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// options answers OPTIONS: phones and trunks use it as a keep-alive.
func (s *Server) options(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, REFER"))
	res.AppendHeader(sip.NewHeader("Allow-Events", presence.AllowEvents))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	tx.Respond(res)
	// A retransmission is answered again; keeping the transaction for
	// sipgo's 32 s would let anyone pile up memory with fresh branches.
	tx.Terminate()
}

// udpBuffer is the socket buffer size asked for the SIP UDP socket.
const udpBuffer = 4 << 20

// Listen opens UDP and TCP on the same address. With port 0 both get the
// same free port.
func (s *Server) Listen() error {
	host, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sip address %q: %w", s.cfg.Addr, err)
	}
	for attempt := 0; attempt < 20; attempt++ {
		udp, err := net.ListenPacket("udp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen sip udp %s: %w", s.cfg.Addr, err)
		}
		if uc, ok := udp.(*net.UDPConn); ok {
			// A big receive buffer rides out bursts (every phone re-registering
			// after a power cut) and pauses of the Go runtime without drops.
			// Linux caps it at net.core.rmem_max.
			uc.SetReadBuffer(udpBuffer)
			uc.SetWriteBuffer(udpBuffer)
		}
		tcpAddr := net.JoinHostPort(host, strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port))
		tcp, err := net.Listen("tcp", tcpAddr)
		if err != nil {
			udp.Close()
			if port == "0" {
				continue // the TCP twin of a random UDP port was taken; try another
			}
			return fmt.Errorf("listen sip tcp %s: %w", tcpAddr, err)
		}
		s.udp, s.tcp = udp, guardTCP(tcp, s.log, s.reg.MaxExpires())
		if err := s.startPresence(); err != nil {
			return err
		}
		s.startVoicemail()
		return s.startCalls()
	}
	return errors.New("no free port for SIP on both UDP and TCP")
}

// Registrar is the switch's table of registered devices.
func (s *Server) Registrar() *registrar.Registrar { return s.reg }

// Serve serves until ctx ends, then stops listening and saves the
// registrations. Call Listen first.
func (s *Server) Serve(ctx context.Context) {
	regCtx, stopReg := context.WithCancel(context.WithoutCancel(ctx))
	var regDone sync.WaitGroup
	regDone.Go(func() { s.reg.Run(regCtx) })
	keepAlive := s.cfg.KeepAlive
	if keepAlive == 0 {
		keepAlive = 25 * time.Second // below the 30 s many NAT routers keep a UDP mapping
	}
	regDone.Go(func() { s.keepAlive(regCtx, keepAlive) })
	regDone.Go(func() { s.pres.Run(regCtx) })
	s.wg.Go(func() { s.srv.ServeUDP(s.udp) })
	s.wg.Go(func() { s.srv.ServeTCP(s.tcp) })
	if err := WaitServing(s.ua, "udp", s.udp.LocalAddr().String()); err != nil {
		s.log.Error("sip udp", "err", err)
	}
	s.log.Info("sip listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String())
	<-ctx.Done()
	if s.calls != nil {
		s.calls.Close() // hang up every call (BYE both sides) and write the records
	}
	s.vm.Close() // after the calls; emails still in flight give up (their messages stay in the box)
	s.pres.Close()
	s.Close()
	stopReg() // after the listeners: the last REGISTERs are in the final flush
	regDone.Wait()
}

// WaitServing waits until sipgo has taken over the UDP socket at addr.
// Until then a request sent "from" that socket would try to bind it anew
// and fail, because sipgo registers a served socket asynchronously.
func WaitServing(ua *sipgo.UserAgent, network, addr string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if c, err := ua.TransportLayer().GetConnection(network, addr); err == nil && c != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s: not served after 2s", network, addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// Addr is the bound SIP address (UDP and TCP share it).
func (s *Server) Addr() string { return s.udp.LocalAddr().String() }

// Close stops the listeners and the user agent and waits for the serve loops.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.udp != nil {
			s.udp.Close()
		}
		if s.tcp != nil {
			s.tcp.Close()
		}
		s.mu.Lock()
		if s.ws != nil {
			s.ws.Close()
		}
		s.mu.Unlock()
		s.ua.Close()
	})
	s.wg.Wait()
	return nil
}
