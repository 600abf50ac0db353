// Package phonetest is a scriptable SIP phone for tests, in the spirit of
// net/http/httptest: it really listens on loopback, REGISTERs with digest
// authentication and sends requests over UDP or TCP, so tests drive the switch
// exactly as a desk phone would. StartSwitch runs a real switch to test against.
package phonetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/switch/server"
)

// Options describe a phone.
type Options struct {
	User      string // SIP user = device id, e.g. "200b"
	Password  string
	Server    string // the switch, host:port
	Transport string // "UDP" (default), "TCP", or "WSS" (a browser's SIP over secure WebSocket, RFC 7118)
	LocalIP   string // loopback address to use, default 127.0.0.1; 127.0.0.x stand for other hosts
	Algorithm string // digest algorithm to answer with ("MD5", "SHA-256"); default the first offered
	Instance  string // +sip.instance, optional
	UserAgent string
	// DisplayName goes between the From header's quotes of its calls as it is
	// (escapes included); default "Phone <User>".
	DisplayName string
	// SessionExpires, when set, asks for RFC 4028 session timers on calls.
	SessionExpires int
	// TLS is the client configuration for WSS (which certificates to trust).
	TLS *tls.Config
	// WSPath is the WebSocket's path on the server for WSS; default "/ws".
	WSPath string
}

// Phone is one SIP phone. Its methods are safe for use by one goroutine at a time.
type Phone struct {
	opts   Options
	ua     *sipgo.UserAgent
	cli    *sipgo.Client
	srv    *sipgo.Server
	addr   string // where the phone listens (its Contact)
	callID string
	mu     sync.Mutex
	cseq   uint32
	closed sync.Once
	wg     sync.WaitGroup
	conns  []interface{ Close() error }

	dua      *sipgo.DialogUA
	behavior atomic.Pointer[Behavior]
	incoming chan *Call
	offers   chan *sip.Request // every new INVITE, answered or not
	dmu      sync.Mutex
	dialogs  map[string]*Call
	notify   notifyState
}

// New starts a phone listening on its own loopback port; it stops at test cleanup.
func New(t testing.TB, o Options) *Phone {
	t.Helper()
	p, err := Start(o)
	if err != nil {
		t.Fatalf("phonetest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Start starts a phone outside a test (benchmarks, tools). Close it when done.
func Start(o Options) (*Phone, error) {
	if o.Transport == "" {
		o.Transport = "UDP"
	}
	o.Transport = strings.ToUpper(o.Transport)
	if o.LocalIP == "" {
		o.LocalIP = "127.0.0.1"
	}
	if o.UserAgent == "" {
		o.UserAgent = "phonetest"
	}
	p := &Phone{opts: o, callID: sip.GenerateTagN(16) + "@phonetest", cseq: 0}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(o.UserAgent), sipgo.WithUserAgentHostname(o.LocalIP)}
	if o.Transport == "WSS" {
		uaOpts = append(uaOpts, wssOptions(o)...)
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, err
	}
	p.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		ua.Close()
		return nil, err
	}
	p.srv = srv
	// Handlers are set before serving starts: a stray packet (a retransmission
	// to a reused port) must not race their registration.
	var cliOpts = []sipgo.ClientOption{sipgo.WithClientHostname(o.LocalIP)}
	var serve func()
	switch o.Transport {
	case "UDP":
		conn, err := net.ListenPacket("udp", net.JoinHostPort(o.LocalIP, "0"))
		if err != nil {
			ua.Close()
			return nil, err
		}
		p.addr = conn.LocalAddr().String()
		p.conns = append(p.conns, conn)
		// Send from the listening socket, as a phone does, so the switch sees one address.
		cliOpts = append(cliOpts, sipgo.WithClientConnectionAddr(p.addr))
		serve = func() { p.wg.Go(func() { srv.ServeUDP(conn) }) }
	case "TCP":
		ln, err := net.Listen("tcp", net.JoinHostPort(o.LocalIP, "0"))
		if err != nil {
			ua.Close()
			return nil, err
		}
		p.addr = ln.Addr().String()
		p.conns = append(p.conns, ln)
		serve = func() { p.wg.Go(func() { srv.ServeTCP(ln) }) }
	case "WSS":
		// A browser listens nowhere: requests to it come back over its own
		// WebSocket, and its Contact names a host no one resolves (RFC 7118 §5.2).
		p.addr = sip.GenerateTagN(8) + ".invalid:0"
		serve = func() {}
	default:
		ua.Close()
		return nil, fmt.Errorf("transport %q: want UDP, TCP or WSS", o.Transport)
	}
	cli, err := sipgo.NewClient(ua, cliOpts...)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.cli = cli
	p.setupCalls()
	p.setupNotify()
	serve()
	if o.Transport == "UDP" {
		if err := server.WaitServing(ua, "udp", p.addr); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close stops the phone.
func (p *Phone) Close() {
	p.closed.Do(func() {
		p.dmu.Lock()
		conns := p.conns
		p.dmu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		if p.cli != nil {
			p.cli.Close()
		}
		p.ua.Close()
		p.wg.Wait()
	})
}

// Addr is where the phone listens.
func (p *Phone) Addr() string { return p.addr }

// OnRequest installs a handler for requests the switch sends to the phone.
func (p *Phone) OnRequest(method sip.RequestMethod, h func(req *sip.Request, tx sip.ServerTransaction)) {
	p.srv.OnRequest(method, h)
}

// Contact is the phone's contact URI.
func (p *Phone) Contact() sip.Uri {
	host, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	u := sip.Uri{Scheme: "sip", User: p.opts.User, Host: host, Port: n, UriParams: sip.NewParams()}
	u.UriParams.Add("transport", strings.ToLower(p.opts.Transport))
	return u
}

func (p *Phone) serverURI() sip.Uri {
	host, port, _ := net.SplitHostPort(p.opts.Server)
	n, _ := strconv.Atoi(port)
	u := sip.Uri{Scheme: "sip", Host: host, Port: n}
	if p.opts.Transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(p.opts.Transport))
	}
	return u
}

func (p *Phone) nextCSeq() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cseq++
	return p.cseq
}

// NewRegister builds a REGISTER for this phone with the given contact header
// value ("" for the phone's own contact) and Expires (-1 for none).
func (p *Phone) NewRegister(contact string, expires int) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, p.serverURI())
	aor := sip.Uri{Scheme: "sip", User: p.opts.User, Host: p.serverURI().Host}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(10)}}})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	cid := sip.CallIDHeader(p.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.nextCSeq(), MethodName: sip.REGISTER})
	if contact == "" {
		c := &sip.ContactHeader{Address: p.Contact()}
		if p.opts.Instance != "" {
			c.Params = sip.NewParams()
			c.Params.Add("+sip.instance", `"<`+p.opts.Instance+`>"`)
		}
		req.AppendHeader(c)
	} else {
		req.AppendHeader(sip.NewHeader("Contact", contact))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	req.SetTransport(p.opts.Transport)
	return req
}

// Register registers the phone's contact for expires seconds, answering a
// digest challenge, and returns the final response.
func (p *Phone) Register(ctx context.Context, expires int) (*sip.Response, error) {
	return p.Authed(ctx, p.NewRegister("", expires))
}

// Unregister removes the phone's own binding (Expires: 0).
func (p *Phone) Unregister(ctx context.Context) (*sip.Response, error) {
	return p.Authed(ctx, p.NewRegister("", 0))
}

// UnregisterAll removes every binding of the device (Contact: *).
func (p *Phone) UnregisterAll(ctx context.Context) (*sip.Response, error) {
	return p.Authed(ctx, p.NewRegister("*", 0))
}

// Send sends req in one transaction and returns the final response.
func (p *Phone) Send(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return p.cli.Do(ctx, req)
}

// Authed sends req; if it is challenged (401/407) it is sent again once with
// credentials (and a new CSeq). It returns the last final response.
func (p *Phone) Authed(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	res, err := p.Send(ctx, req)
	if err != nil || (res.StatusCode != 401 && res.StatusCode != 407) {
		return res, err
	}
	again, err := p.WithCredentials(req, res)
	if err != nil {
		return nil, err
	}
	return p.Send(ctx, again)
}

// WithCredentials returns a copy of req answering the challenge in res with
// the phone's user and password, under a new CSeq and branch.
func (p *Phone) WithCredentials(req *sip.Request, res *sip.Response) (*sip.Request, error) {
	chalHeader, credHeader := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chalHeader, credHeader = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders(chalHeader) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		if p.opts.Algorithm == "" || strings.EqualFold(c.Algorithm, p.opts.Algorithm) {
			chal = c
			break
		}
	}
	if chal == nil {
		return nil, fmt.Errorf("no usable %s challenge in %d response", chalHeader, res.StatusCode)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: req.Recipient.String(),
		Username: p.opts.User, Password: p.opts.Password})
	if err != nil {
		return nil, err
	}
	again := req.Clone()
	again.RemoveHeader("Via")
	again.RemoveHeader(credHeader)
	again.AppendHeader(sip.NewHeader(credHeader, cred.String()))
	if cseq := again.CSeq(); cseq != nil {
		cseq.SeqNo = p.nextCSeq()
	}
	return again, nil
}
