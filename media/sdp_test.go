package media_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"switchboard/media"
)

const sdpDir = "../testdata/sdp"

var (
	pcmu, pcma = media.PCMU, media.PCMA
	avp        = "RTP/AVP"
)

func desc(addr string, port int, codecs []media.Codec, dtmf uint8, dir media.Direction, ptime int, proto string) media.SessionDesc {
	return media.SessionDesc{Addr: netip.MustParseAddr(addr), Port: port, Codecs: codecs, DTMFPT: dtmf, Direction: dir, Ptime: ptime, Proto: proto}
}

// Real devices' SDP in testdata/sdp/valid; every file there must be listed.
var validSDP = map[string]media.SessionDesc{
	"yealink-t46u-offer.sdp":        desc("192.168.1.50", 11780, []media.Codec{pcmu, pcma}, 101, media.SendRecv, 20, avp),
	"yealink-t46u-hold.sdp":         desc("192.168.1.50", 11780, []media.Codec{pcma}, 101, media.SendOnly, 20, avp),
	"polycom-vvx-offer.sdp":         desc("192.168.1.60", 2222, []media.Codec{pcmu, pcma}, 127, media.SendRecv, 0, avp),
	"grandstream-gxp2170-offer.sdp": desc("192.168.1.70", 5004, []media.Codec{pcma, pcmu}, 101, media.SendRecv, 20, avp),
	"baresip-offer.sdp":             desc("127.0.0.1", 10002, []media.Codec{pcmu, pcma}, 101, media.SendRecv, 20, avp),
	"linphone-offer.sdp":            desc("192.168.1.80", 7078, []media.Codec{pcmu, pcma}, 100, media.SendRecv, 0, avp),
	"sipp-uac.sdp":                  desc("127.0.0.1", 6000, []media.Codec{pcmu}, 0, media.SendRecv, 0, avp),
	"sipp-uac-pcap.sdp":             desc("127.0.0.1", 6000, []media.Codec{pcma}, 101, media.SendRecv, 0, avp),
	"cisco-7960-c-after-m.sdp":      desc("10.10.10.10", 20096, []media.Codec{pcmu, pcma}, 101, media.SendRecv, 0, avp),
	"lucent-c-after-t.sdp":          desc("10.243.83.56", 31000, []media.Codec{pcmu}, 0, media.SendRecv, 0, avp),
	"old-style-hold.sdp":            desc("0.0.0.0", 6000, []media.Codec{pcmu}, 96, media.SendOnly, 0, avp),
	"inactive.sdp":                  desc("192.168.1.91", 40000, []media.Codec{pcmu, pcma}, 126, media.Inactive, 30, avp),
	"session-level-sendonly.sdp":    desc("192.168.1.92", 40002, []media.Codec{pcma}, 0, media.SendOnly, 0, avp),
	"rejected-answer.sdp":           desc("192.168.1.93", 0, []media.Codec{pcmu}, 0, media.SendRecv, 0, avp),
	"video-first-two-audio.sdp":     desc("192.168.1.95", 9002, []media.Codec{pcma, pcmu}, 0, media.SendRecv, 0, avp),
	"ipv6.sdp":                      desc("2001:db8::5", 7000, []media.Codec{pcmu}, 101, media.SendRecv, 0, avp),
	"chrome-webrtc-offer.sdp":       desc("0.0.0.0", 9, []media.Codec{pcmu, pcma}, 126, media.SendRecv, 0, "UDP/TLS/RTP/SAVPF"),
	"srtp-sdes-offer.sdp":           desc("192.168.1.96", 12000, []media.Codec{pcmu, pcma}, 101, media.SendRecv, 0, "RTP/SAVP"),
	"no-g711.sdp":                   desc("192.168.1.97", 12002, nil, 0, media.SendRecv, 0, avp),
}

var invalidSDP = map[string]error{
	"empty.sdp":               media.ErrNoAudio,
	"video-only.sdp":          media.ErrNoAudio,
	"no-connection.sdp":       media.ErrNoConnection,
	"hostname-connection.sdp": media.ErrMalformedSDP,
	"bad-port.sdp":            media.ErrMalformedSDP,
	"short-m-line.sdp":        media.ErrMalformedSDP,
}

// sdpVariants returns the file as stored (CRLF, as on the wire) and with bare
// LF line ends, which some devices send.
func sdpVariants(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"crlf": b, "lf": bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))}
}

func TestParseSDPValid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sdpDir, "valid", "*.sdp"))
	if len(files) != len(validSDP) {
		t.Errorf("%d files in testdata/sdp/valid, %d in the table: list every file", len(files), len(validSDP))
	}
	for _, path := range files {
		want, listed := validSDP[filepath.Base(path)]
		if !listed {
			t.Errorf("%s: not in the table", filepath.Base(path))
			continue
		}
		for variant, body := range sdpVariants(t, path) {
			got, err := media.ParseSDP(body)
			if err != nil {
				t.Errorf("%s (%s): %v", filepath.Base(path), variant, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s):\n got %+v\nwant %+v", filepath.Base(path), variant, got, want)
			}
		}
	}
}

func TestParseSDPInvalid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sdpDir, "invalid", "*.sdp"))
	if len(files) != len(invalidSDP) {
		t.Errorf("%d files in testdata/sdp/invalid, %d in the table: list every file", len(files), len(invalidSDP))
	}
	for _, path := range files {
		want := invalidSDP[filepath.Base(path)]
		for variant, body := range sdpVariants(t, path) {
			if _, err := media.ParseSDP(body); want == nil || !errors.Is(err, want) {
				t.Errorf("%s (%s): err = %v, want %v", filepath.Base(path), variant, err, want)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	both := []media.Codec{pcmu, pcma}
	tests := []struct {
		name      string
		offer     media.SessionDesc
		supported []media.Codec
		want      media.Codec
		wantErr   error
	}{
		{"first of the offer", desc("10.0.0.1", 4000, []media.Codec{pcma, pcmu}, 0, 0, 0, avp), both, pcma, nil},
		{"offer order wins over ours", desc("10.0.0.1", 4000, []media.Codec{pcmu, pcma}, 0, 0, 0, avp), []media.Codec{pcma, pcmu}, pcmu, nil},
		{"only one supported", desc("10.0.0.1", 4000, []media.Codec{pcmu, pcma}, 0, 0, 0, avp), []media.Codec{pcma}, pcma, nil},
		{"AVPF is plain RTP too", desc("10.0.0.1", 4000, []media.Codec{pcmu}, 0, 0, 0, "RTP/AVPF"), both, pcmu, nil},
		{"no proto given", desc("10.0.0.1", 4000, []media.Codec{pcmu}, 0, 0, 0, ""), both, pcmu, nil},
		{"no common codec", desc("10.0.0.1", 4000, nil, 0, 0, 0, avp), both, 0, media.ErrNoCommonCodec},
		{"not supported here", desc("10.0.0.1", 4000, []media.Codec{pcmu}, 0, 0, 0, avp), []media.Codec{pcma}, 0, media.ErrNoCommonCodec},
		{"rejected stream", desc("10.0.0.1", 0, []media.Codec{pcmu}, 0, 0, 0, avp), both, 0, media.ErrStreamRejected},
		{"SRTP", desc("10.0.0.1", 4000, []media.Codec{pcmu}, 0, 0, 0, "RTP/SAVP"), both, 0, media.ErrUnsupportedProto},
		{"WebRTC", desc("0.0.0.0", 9, []media.Codec{pcmu}, 0, 0, 0, "UDP/TLS/RTP/SAVPF"), both, 0, media.ErrUnsupportedProto},
	}
	for _, tt := range tests {
		got, err := media.Negotiate(tt.offer, tt.supported)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("%s: Negotiate = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBuildSDP(t *testing.T) {
	tests := []struct {
		name string
		d    media.SessionDesc
		want string
	}{
		{
			"offer, both codecs and DTMF",
			desc("192.168.1.2", 20000, []media.Codec{pcmu, pcma}, 101, media.SendRecv, 0, ""),
			"v=0\r\no=switchboard 42 1 IN IP4 192.168.1.2\r\ns=switchboard\r\nc=IN IP4 192.168.1.2\r\nt=0 0\r\n" +
				"m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
				"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		},
		{
			"answer to hold, no DTMF",
			desc("192.168.1.2", 20002, []media.Codec{pcma}, 0, media.RecvOnly, 30, ""),
			"v=0\r\no=switchboard 42 1 IN IP4 192.168.1.2\r\ns=switchboard\r\nc=IN IP4 192.168.1.2\r\nt=0 0\r\n" +
				"m=audio 20002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:30\r\na=recvonly\r\n",
		},
		{
			"rejecting, IPv6, no codec given",
			desc("2001:db8::1", 0, nil, 0, media.Inactive, 0, ""),
			"v=0\r\no=switchboard 42 1 IN IP6 2001:db8::1\r\ns=switchboard\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n" +
				"m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=inactive\r\n",
		},
	}
	for _, tt := range tests {
		if got := string(media.BuildSDP(tt.d, 42, 1)); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// What BuildSDP writes, ParseSDP reads back unchanged.
func TestBuildParseRoundTrip(t *testing.T) {
	for _, d := range []media.SessionDesc{
		desc("10.1.2.3", 30000, []media.Codec{pcma, pcmu}, 96, media.SendRecv, 20, avp),
		desc("10.1.2.3", 30002, []media.Codec{pcmu}, 126, media.SendOnly, 20, avp),
		desc("10.1.2.3", 30004, []media.Codec{pcmu}, 0, media.Inactive, 40, avp),
		desc("2001:db8::7", 30006, []media.Codec{pcma}, 101, media.RecvOnly, 20, avp),
	} {
		got, err := media.ParseSDP(media.BuildSDP(d, 1, 2))
		if err != nil || !reflect.DeepEqual(got, d) {
			t.Errorf("round trip of %+v: got %+v, %v", d, got, err)
		}
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d               media.Direction
		name            string
		reverse         media.Direction
		sends, receives bool
	}{
		{media.SendRecv, "sendrecv", media.SendRecv, true, true},
		{media.SendOnly, "sendonly", media.RecvOnly, true, false},
		{media.RecvOnly, "recvonly", media.SendOnly, false, true},
		{media.Inactive, "inactive", media.Inactive, false, false},
	}
	for _, tt := range tests {
		if tt.d.String() != tt.name || tt.d.Reverse() != tt.reverse || tt.d.Sends() != tt.sends || tt.d.Receives() != tt.receives {
			t.Errorf("%v: String %q Reverse %v Sends %v Receives %v", int(tt.d), tt.d, tt.d.Reverse(), tt.d.Sends(), tt.d.Receives())
		}
	}
	if s := media.Direction(9).String(); s != "Direction(9)" {
		t.Errorf("unknown direction prints %q", s)
	}
}
