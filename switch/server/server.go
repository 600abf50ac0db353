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

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
	"switchboard/switch/registrar"
)

// Config says where the switch listens.
type Config struct {
	Addr       string // host:port for UDP and TCP; port 0 picks a free one
	UserAgent  string
	Registrar  registrar.Config
	AuthLimits auth.Limits // zero: auth.DefaultLimits
	Digest     []string    // challenge algorithms in order; default MD5, SHA-256
}

// Server is the running SIP side of the switch.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	reg  *registrar.Registrar
	udp  net.PacketConn
	tcp  net.Listener
	wg   sync.WaitGroup
	once sync.Once
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
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, ua: ua, srv: srv, reg: reg}
	srv.OnRegister(reg.HandleRegister)
	srv.OnOptions(s.options)
	return s, nil
}

// options answers OPTIONS: phones and trunks use it as a keep-alive.
func (s *Server) options(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER"))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	tx.Respond(res)
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
		s.udp, s.tcp = udp, tcp
		return nil
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
	s.wg.Go(func() { s.srv.ServeUDP(s.udp) })
	s.wg.Go(func() { s.srv.ServeTCP(s.tcp) })
	if err := WaitServing(s.ua, "udp", s.udp.LocalAddr().String()); err != nil {
		s.log.Error("sip udp", "err", err)
	}
	s.log.Info("sip listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String())
	<-ctx.Done()
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
		s.ua.Close()
	})
	s.wg.Wait()
	return nil
}
