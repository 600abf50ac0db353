package server

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
)

// keepAliveMessage is the RFC 5626 §3.5.1 CRLF keep-alive; phones ignore it,
// but it refreshes the NAT mapping the phone's REGISTER opened.
var keepAliveMessage = []byte("\r\n\r\n")

// keepAlive sends a CRLF keep-alive every interval to each UDP binding that
// sits behind NAT (its Contact differs from where its packets come from), so
// calls can still reach the phone between its re-registrations.
func (s *Server) keepAlive(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, list := range s.reg.All() {
				for _, b := range list {
					if b.Transport != "UDP" || !behindNAT(b) {
						continue
					}
					if addr, err := net.ResolveUDPAddr("udp", b.Source); err == nil {
						s.udp.WriteTo(keepAliveMessage, addr)
					}
				}
			}
		}
	}
}

// behindNAT reports whether a binding's Contact is not where its packets come from.
func behindNAT(b store.Binding) bool {
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil {
		return true
	}
	port := uri.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(uri.Host, strconv.Itoa(port)) != b.Source
}
