package server

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
)

// keepAliveMessage is the RFC 5626 §3.5.1 CRLF keep-alive; phones ignore it,
// but it refreshes the NAT mapping the phone's REGISTER opened.
var keepAliveMessage = []byte("\r\n\r\n")

// keepAlive sends a CRLF keep-alive every interval to each UDP binding that
// sits behind NAT (its Contact differs from where its packets come from), so
// calls can still reach the phone between its re-registrations. A round
// allocates next to nothing: it runs every 25 s for every phone, idle or not.
func (s *Server) keepAlive(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	udp, _ := s.udp.(*net.UDPConn)
	var targets []netip.AddrPort
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		targets = targets[:0]
		s.reg.EachBinding(func(_ string, b *store.Binding) {
			if b.Transport != "UDP" || !behindNAT(b) {
				return
			}
			if addr, err := netip.ParseAddrPort(b.Source); err == nil {
				targets = append(targets, addr)
			}
		})
		for _, addr := range targets {
			if udp != nil {
				udp.WriteToUDPAddrPort(keepAliveMessage, addr)
			} else {
				s.udp.WriteTo(keepAliveMessage, net.UDPAddrFromAddrPort(addr))
			}
		}
		if cap(targets) > 4*len(targets)+64 { // a crowd that left: let its memory go
			targets = nil
		}
	}
}

// behindNAT reports whether a binding's Contact is not where its packets
// come from (a Contact without a port means 5060).
func behindNAT(b *store.Binding) bool {
	host, port, ok := contactAddr(b.Contact)
	if !ok {
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			return true
		}
		host, port = strings.Trim(uri.Host, "[]"), uri.Port
	}
	if port == 0 {
		port = 5060
	}
	srcHost, srcPort, err := net.SplitHostPort(b.Source)
	return err != nil || !strings.EqualFold(host, srcHost) || strconv.Itoa(port) != srcPort
}

// contactAddr reads the host and port (0 if none) of a contact URI in the
// form the registrar keeps ("sip:200@192.168.1.20:5062;transport=UDP",
// "sip:[fd00::20]:5062") without allocating; ok is false for any other
// form, which the caller parses in full.
func contactAddr(uri string) (host string, port int, ok bool) {
	scheme, rest, found := strings.Cut(uri, ":")
	if !found || !(strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips")) ||
		strings.ContainsAny(rest, "<>\" \t") {
		return "", 0, false
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		for _, c := range []byte(rest[:at]) { // a plain user part, or the full parse decides
			if !plainUserByte(c) {
				return "", 0, false
			}
		}
		rest = rest[at+1:]
	}
	if strings.IndexByte(rest, '?') >= 0 {
		return "", 0, false // URI headers: rare in a Contact, and sipgo reads some oddly; the full parse decides
	}
	if end := strings.IndexByte(rest, ';'); end >= 0 {
		rest = rest[:end]
	}
	host, p, err := net.SplitHostPort(rest)
	if err != nil { // no port: a plain host name or address
		host, p = rest, ""
		if strings.ContainsAny(host, "[]:") {
			return "", 0, false
		}
	}
	for _, c := range []byte(p) {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	if p != "" {
		if port, err = strconv.Atoi(p); err != nil || port > 65535 {
			return "", 0, false
		}
	}
	if host == "" {
		return "", 0, false
	}
	for _, c := range []byte(host) { // a name, an IPv4 or an IPv6 address
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':') {
			return "", 0, false
		}
	}
	return host, port, true
}

// plainUserByte: letters, digits and the marks a SIP user part may hold
// unescaped besides ';' '?' ':' (RFC 3261 §25.1), which need the full parse.
func plainUserByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()%&=+$,#/", c) >= 0
}
