package server

import (
	"bytes"
	"cmp"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// REGISTER over UDP is answered from sipgo's read loop, before sipgo makes
// a server transaction for it and a goroutine to run it: those cost about a
// quarter of the CPU of a registration (a transaction, its 10-s context
// timer, and a fresh goroutine whose stack is copied twice as the request
// goes deeper), and the registrar does not need them (see
// registrar.AnswerStateless). Everything else, and every REGISTER the
// registrar hands back, goes on to sipgo as before.

var registerPrefix = []byte("REGISTER ")

// statelessUDP holds what the read filter needs: it runs on sipgo's UDP
// read goroutine, one datagram at a time.
type statelessUDP struct {
	parser *sip.Parser
	out    sync.Pool // *bytes.Buffer for the response
}

// readFilter is sipgo's transport read filter: it returns the datagram for
// sipgo to handle, or nothing when the REGISTER in it has been answered.
func (s *Server) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, registerPrefix) || !strings.EqualFold(props.Transport, "udp") {
		return data, nil
	}
	src, ok := props.RemoteAddr.(*net.UDPAddr)
	if !ok || !s.isSIPSocket(props.LocalAddr) {
		return data, nil
	}
	msg, err := s.stateless.parser.ParseSIP(data)
	req, isRequest := msg.(*sip.Request)
	if err != nil || !isRequest || len(req.Body()) > 0 {
		return data, nil // sipgo refuses it or answers it as before
	}
	req.SetTransport("UDP")
	req.SetSource(src.String())
	res := s.reg.AnswerStateless(req)
	if res == nil {
		return data, nil
	}
	s.sendUDP(res, src)
	return nil, nil
}

// isSIPSocket tells whether a datagram came in on the switch's SIP socket,
// the one the stateless answer goes out of (sipgo runs the filter on every
// UDP connection it reads).
func (s *Server) isSIPSocket(local net.Addr) bool {
	la, ok := local.(*net.UDPAddr)
	if !ok || s.udp == nil {
		return false
	}
	ours, ok := s.udp.LocalAddr().(*net.UDPAddr)
	return ok && la.Port == ours.Port && la.IP.Equal(ours.IP)
}

// sendUDP sends a response from the SIP socket to where the phone really
// is. With rport in the top Via (RFC 3581), that is the request's source
// address and port. Without it, RFC 3261 §18.2.2 says the Via's sent-by
// port (5060 when it names none), and so does sipgo; the switch does that
// when the Via names the source's own address, and otherwise, as a NAT
// stands between, answers the source port as well (like Asterisk's
// force_rport): the Via's port of a private address is not reachable
// through the NAT, and INVITEs go to the registration's source anyway.
func (s *Server) sendUDP(res *sip.Response, src *net.UDPAddr) {
	dst := src
	if via := res.Via(); via != nil && !via.Params.Has("rport") && sameIP(via.Host, src.IP) {
		dst = &net.UDPAddr{IP: src.IP, Port: cmp.Or(via.Port, 5060)}
	}
	buf, _ := s.stateless.out.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	res.StringWrite(buf)
	if _, err := s.udp.WriteTo(buf.Bytes(), dst); err != nil {
		s.log.Debug("respond to REGISTER", "err", err, "destination", dst.String())
	}
	s.stateless.out.Put(buf)
}

// sameIP tells whether a Via's host is the address ip, written as an IP.
func sameIP(host string, ip net.IP) bool {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	b, ok := netip.AddrFromSlice(ip)
	return err == nil && ok && a.Unmap() == b.Unmap()
}
