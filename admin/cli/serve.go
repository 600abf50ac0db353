package cli

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// ServeOptions are the flags of `switchboard serve`.
type ServeOptions struct {
	Data     string
	SIP      string // host:port for SIP over UDP and TCP
	HTTP     string // host:port for plain HTTP (health, metrics; pages redirect to HTTPS)
	HTTPS    string // host:port for the web admin UI and API
	RTPLow   int
	RTPHigh  int
	LogLevel slog.Level
	Digest   []string // digest algorithms offered, in order
	// AdvertiseIP is the address phones are told to send SIP and audio to;
	// empty: the SIP listen host, or the first LAN address for 0.0.0.0.
	AdvertiseIP string
	PProf       string // host:port for Go profiling (net/http/pprof); empty: off
	// Gateway is the SIP gateway (host:port) calls to outside numbers go
	// through until trunks are configured in the store; empty: none.
	Gateway string
	// WebRTC is host:port of the UDP socket for webphones' media; empty:
	// the HTTPS address, over UDP.
	WebRTC string
}

func newServeCmd(g *globals, serve ServeFunc) *cobra.Command {
	var sipAddr, httpAddr, httpsAddr, rtp, level, digest, advertise, pprofAddr, gateway, webrtcAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the phone system",
		Long: "Run the phone system. A first run on an empty data directory creates the store\n" +
			"and an office-manager login, and prints it once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := parseServe(g.data, sipAddr, httpAddr, rtp, level, digest)
			if err != nil {
				return err
			}
			if _, port, err := net.SplitHostPort(httpsAddr); err != nil {
				return usagef("--https %q: want HOST:PORT (%v)", httpsAddr, err)
			} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
				return usagef("--https %q: bad port", httpsAddr)
			}
			opts.HTTPS = httpsAddr
			opts.WebRTC = httpsAddr
			if webrtcAddr != "" {
				if _, port, err := net.SplitHostPort(webrtcAddr); err != nil {
					return usagef("--webrtc %q: want HOST:PORT (%v)", webrtcAddr, err)
				} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
					return usagef("--webrtc %q: bad port", webrtcAddr)
				}
				opts.WebRTC = webrtcAddr
			}
			if advertise != "" {
				if ip := net.ParseIP(advertise); ip == nil || ip.To4() == nil || ip.IsUnspecified() {
					return usagef("--advertise-ip %q: want this box's IPv4 address on the LAN", advertise)
				}
				opts.AdvertiseIP = advertise
			}
			if pprofAddr != "" {
				if _, _, err := net.SplitHostPort(pprofAddr); err != nil {
					return usagef("--pprof %q: want HOST:PORT (%v)", pprofAddr, err)
				}
				opts.PProf = pprofAddr
			}
			if gateway != "" {
				host, port, err := net.SplitHostPort(gateway)
				if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
					return usagef("--gateway %q: want HOST:PORT of the SIP gateway", gateway)
				}
				opts.Gateway = gateway
			}
			return serve(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&sipAddr, "sip", "0.0.0.0:5060", "SIP listen address (UDP and TCP)")
	cmd.Flags().StringVar(&httpAddr, "http", "0.0.0.0:8080", "HTTP listen address (health and metrics; pages redirect to HTTPS)")
	cmd.Flags().StringVar(&httpsAddr, "https", "0.0.0.0:8443", "HTTPS listen address (web admin UI and API; a self-signed certificate is made at first run)")
	cmd.Flags().StringVar(&webrtcAddr, "webrtc", "", "UDP listen address for every webphone's audio (ICE, DTLS-SRTP)\n"+
		"(default: the --https address, over UDP)")
	cmd.Flags().StringVar(&rtp, "rtp-ports", "10000-20000", "UDP port range for call audio, LO-HI")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&advertise, "advertise-ip", "", "address phones should send SIP and audio to (default: the --sip host, or the first LAN address)")
	cmd.Flags().StringVar(&digest, "digest", "md5", "digest algorithms offered to phones, preferred first:\n"+
		"md5 alone suits every phone; offering two (md5,sha256) locks out phones that reject a challenge\n"+
		"with an algorithm they do not know (baresip 1.x and other libre-based phones)")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "", "serve Go profiles (/debug/pprof/) on this address, e.g. 127.0.0.1:6060;\n"+
		"for benchmarks and debugging only: keep it on loopback")
	cmd.Flags().StringVar(&gateway, "gateway", "", "SIP gateway (HOST:PORT) that calls to outside numbers go through,\n"+
		"used by answering rules that forward to an outside number")
	return cmd
}

func parseServe(data, sipAddr, httpAddr, rtp, level, digest string) (ServeOptions, error) {
	o := ServeOptions{Data: data, SIP: sipAddr, HTTP: httpAddr}
	for name, addr := range map[string]string{"--sip": sipAddr, "--http": httpAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil {
			return o, usagef("%s %q: want HOST:PORT (%v)", name, addr, err)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return o, usagef("%s %q: bad port", name, addr)
		}
	}
	lo, hi, ok := strings.Cut(rtp, "-")
	var err1, err2 error
	o.RTPLow, err1 = strconv.Atoi(lo)
	o.RTPHigh, err2 = strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || o.RTPLow < 1024 || o.RTPHigh > 65535 || o.RTPLow >= o.RTPHigh {
		return o, usagef("--rtp-ports %q: want LO-HI with 1024 <= LO < HI <= 65535", rtp)
	}
	for _, alg := range strings.Split(digest, ",") {
		switch strings.ToLower(strings.TrimSpace(alg)) {
		case "md5":
			o.Digest = append(o.Digest, "MD5")
		case "sha256", "sha-256":
			o.Digest = append(o.Digest, "SHA-256")
		default:
			return o, usagef("--digest %q: want md5, sha256 or both, comma separated", digest)
		}
	}
	if err := o.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return o, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	return o, nil
}

// String shows the options in one log line.
func (o ServeOptions) String() string {
	return fmt.Sprintf("data=%s sip=%s http=%s https=%s rtp=%d-%d", o.Data, o.SIP, o.HTTP, o.HTTPS, o.RTPLow, o.RTPHigh)
}
