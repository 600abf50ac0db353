package server

import (
	"net"

	"github.com/emiago/sipgo"

	"switchboard/switch/presence"
	"switchboard/switch/registrar"
)

// startPresence builds SUBSCRIBE/NOTIFY (message waiting today) once the
// listeners' addresses are known. It runs with or without media: MWI needs
// only signalling.
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
