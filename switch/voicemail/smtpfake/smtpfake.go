// Package smtpfake is a minimal plain-text SMTP server on 127.0.0.1 for
// the tests of packages that send email through switch/voicemail's SMTP
// (the admin UI and CLI): EHLO, MAIL, RCPT, DATA, QUIT, no TLS, no AUTH.
// switch/voicemail's own tests use a fuller fake (smtp_fake_test.go).
package smtpfake

import (
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server keeps every message it accepts.
type Server struct {
	ln       net.Listener
	rejectTo string // RCPT TO this address gets 550

	mu   sync.Mutex
	mail []Mail
	wg   sync.WaitGroup
}

// Mail is an accepted message.
type Mail struct {
	From, To string
	Data     string
}

// Start runs a server until the test ends; RCPT TO rejectTo (if not "")
// is refused with 550.
func Start(t testing.TB, rejectTo string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, rejectTo: rejectTo}
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

// Messages returns the accepted messages.
func (s *Server) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 fake ESMTP ready")
	var cur Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			tp.PrintfLine("250-fake")
			tp.PrintfLine("250 8BITMIME")
		case "HELO", "NOOP", "RSET":
			tp.PrintfLine("250 ok")
		case "MAIL":
			cur = Mail{From: addrArg(arg)}
			tp.PrintfLine("250 ok")
		case "RCPT":
			if to := addrArg(arg); to == s.rejectTo {
				tp.PrintfLine("550 no such user")
			} else {
				cur.To = to
				tp.PrintfLine("250 ok")
			}
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

func addrArg(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	return strings.Trim(v, "<>")
}
