package server

import (
	"net"

	"github.com/emiago/sipgo"

	"switchboard/switch/presence"
	"switchboard/switch/registrar"
)

// startPresence builds SUBSCRIBE/NOTIFY (message waiting, BLF, presence)
// once the listeners' addresses are known. It runs with or without media:
// it needs only signalling.
func (s *Server) startPresence() error {
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
	s.pres = presence.New(presence.Config{Host: host, Port: s.udp.LocalAddr().(*net.UDPAddr).Port}, presence.Deps{
		Auth:        s.authn,
		Credentials: registrar.StoreDirectory{Store: s.st},
		Directory:   s.st,
		Mailboxes:   s.st,
		Locator:     s.reg,
		Bus:         s.bus,
		Calls:       liveCalls{s},
		Log:         s.log,
		UDP:         udpCli,
		Stream:      streamCli,
	})
	s.srv.OnSubscribe(s.pres.HandleSubscribe)
	return nil
}

// Presence is SUBSCRIBE/NOTIFY: voicemail tells it when a box changes
// (Presence().Changed(ext)) and it lights the phones' lamps.
func (s *Server) Presence() *presence.Service { return s.pres }

// liveCalls asks the B2BUA, built after presence (and never without
// media), whether a call is still in progress.
type liveCalls struct{ s *Server }

func (c liveCalls) Live(callID string) bool { return c.s.calls != nil && c.s.calls.Live(callID) }
