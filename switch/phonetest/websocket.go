package phonetest

import (
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// wssOptions make the phone's user agent dial the switch as a browser
// does: wss://host:port/ws, trusting the certificates in o.TLS.
func wssOptions(o Options) []sipgo.UserAgentOption {
	path := o.WSPath
	if path == "" {
		path = "/ws"
	}
	wss := &sip.TransportWSS{TransportWS: &sip.TransportWS{DialURI: func(host string) string { return "wss://" + host + path }}}
	opts := []sipgo.UserAgentOption{sipgo.WithUserAgentTransportLayerOptions(
		sip.WithTransportLayerTransports(sip.TransportsConfig{WSS: wss}))}
	if o.TLS != nil {
		opts = append(opts, sipgo.WithUserAgenTLSConfig(o.TLS))
	}
	return opts
}
