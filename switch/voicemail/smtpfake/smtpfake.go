// Package smtpfake is a small SMTP server on 127.0.0.1 for tests of code
// that sends email (voicemail, the admin UI and CLI): it speaks enough ESMTP
// for net/smtp (EHLO, STARTTLS, implicit TLS, AUTH PLAIN, MAIL, RCPT, DATA,
// QUIT) and keeps every message it accepts. Only tests import it.
package smtpfake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options say what the server offers; the zero value is plain text, no AUTH.
type Options struct {
	StartTLS bool   // offer STARTTLS
	Implicit bool   // TLS from the first byte
	User     string // offer AUTH PLAIN and require these credentials
	Password string
	RejectTo string // RCPT TO this address gets 550
}

// Server keeps every message it accepts.
type Server struct {
	o     Options
	ln    net.Listener
	cert  tls.Certificate
	roots *x509.CertPool

	mu   sync.Mutex
	mail []Mail
	wg   sync.WaitGroup
}

// Mail is an accepted message.
type Mail struct {
	From, To string
	Data     string
	TLS      bool   // it came over TLS
	AuthUser string // who authenticated, or ""
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{o: o}
	s.cert, s.roots = selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Roots trust the server's certificate (for STARTTLS and implicit TLS).
func (s *Server) Roots() *x509.CertPool { return s.roots }

// Close stops accepting connections (a server that went away).
func (s *Server) Close() { s.ln.Close() }

// Messages returns the accepted messages.
func (s *Server) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	secure := false
	if s.o.Implicit {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
		if tc.Handshake() != nil {
			return
		}
		c, secure = tc, true
	}
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 fake ESMTP ready")
	var cur Mail
	authed := ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"fake"}
			if s.o.StartTLS && !secure {
				lines = append(lines, "STARTTLS")
			}
			if s.o.User != "" {
				lines = append(lines, "AUTH PLAIN")
			}
			lines = append(lines, "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, l)
			}
		case "HELO", "NOOP", "RSET":
			tp.PrintfLine("250 ok")
		case "STARTTLS":
			if !s.o.StartTLS || secure {
				tp.PrintfLine("502 no")
				continue
			}
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, secure = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if s.o.User == "" || !strings.EqualFold(mech, "PLAIN") {
				tp.PrintfLine("504 unsupported")
				continue
			}
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 && parts[1] == s.o.User && parts[2] == s.o.Password {
				authed = parts[1]
				tp.PrintfLine("235 welcome")
			} else {
				tp.PrintfLine("535 bad credentials")
			}
		case "MAIL":
			if s.o.User != "" && authed == "" {
				tp.PrintfLine("530 authenticate first")
				continue
			}
			cur = Mail{From: addrArg(arg), TLS: secure, AuthUser: authed}
			tp.PrintfLine("250 ok")
		case "RCPT":
			to := addrArg(arg)
			if to == s.o.RejectTo {
				tp.PrintfLine("550 no such user")
				continue
			}
			cur.To = to
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.Data = string(data)
			s.mu.Lock()
			s.mail = append(s.mail, cur)
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("500 what")
		}
	}
}

// addrArg reads the address of "FROM:<a@b>" or "TO:<a@b> SIZE=…".
func addrArg(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	return strings.Trim(v, "<>")
}

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
