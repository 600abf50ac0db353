package media_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchboard/media"
)

// FuzzParseSDP: never panic; what parses and can be written back, BuildSDP
// writes so that ParseSDP reads the same description.
func FuzzParseSDP(f *testing.F) {
	for _, b := range corpus(f, "FuzzParseSDP", filepath.Join(sdpDir, "valid"), filepath.Join(sdpDir, "invalid")) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := media.ParseSDP(body)
		if err != nil || d.Port == 0 || len(d.Codecs) == 0 || d.Addr.IsUnspecified() {
			return // old-style hold and ICE make 0.0.0.0 one-way; nothing else to compare
		}
		again, err := media.ParseSDP(media.BuildSDP(d, 1, 1))
		if d.Ptime == 0 {
			d.Ptime = 20 // what BuildSDP writes when none is given
		}
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip:\n  in %+v\n out %+v, %v\n%q", d, again, err, media.BuildSDP(d, 1, 1))
		}
	})
}

// FuzzHandleRTP feeds arbitrary datagrams to a bridged endpoint's RTP
// handler, from the latched source and from a stranger, with transcoding and
// DTMF remapping on: it must never panic.
func FuzzHandleRTP(f *testing.F) {
	for _, b := range corpus(f, "FuzzHandleRTP") {
		f.Add(b, false)
	}
	e := newEngine(f, media.Config{})
	epA, epB := newEndpoint(f, e), newEndpoint(f, e)
	phoneA, sinkB := newPhone(f), newPhone(f)
	epA.SetRemote(phoneA.addr(), media.PCMU, 101)
	epB.SetRemote(sinkB.addr(), media.PCMA, 96)
	f.Cleanup(media.Bridge(epA, epB))
	stranger := netip.MustParseAddrPort("127.0.0.1:9")
	f.Fuzz(func(t *testing.T, datagram []byte, fromStranger bool) {
		src := phoneA.addr()
		if fromStranger {
			src = stranger
		}
		media.HandleRTP(epA, datagram, src)
	})
}

// FuzzParseEvent: never panic; a parsed event encodes back to its bytes
// (the reserved bit cleared).
func FuzzParseEvent(f *testing.F) {
	for _, b := range corpus(f, "FuzzParseEvent") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := media.ParseEvent(p)
		if err != nil {
			return
		}
		want := []byte{p[0], p[1] &^ 0x40, p[2], p[3]}
		if got := e.AppendTo(nil); !bytes.Equal(got, want) {
			t.Fatalf("ParseEvent(%x) = %+v, encodes to %x", p[:4], e, got)
		}
	})
}

// FuzzRecordDTMF feeds a sequence of datagrams (each a 2-byte big-endian
// length, then the bytes) to an endpoint that is not bridged, records and
// listens for DTMF: it must never panic, a recording never outgrows its
// maximum, and there is at most one key a telephone-event packet.
func FuzzRecordDTMF(f *testing.F) {
	for _, b := range corpus(f, "FuzzRecordDTMF") {
		f.Add(b)
	}
	e := newEngine(f, media.Config{})
	ep, phoneA := newEndpoint(f, e), newPhone(f)
	ep.SetRemote(phoneA.addr(), media.PCMA, 101)
	var keys int
	ep.OnDTMF(func(d byte) {
		if !strings.ContainsRune("0123456789*#ABCD", rune(d)) {
			panic(fmt.Sprintf("digit %q", d))
		}
		keys++
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := ep.Record(100 * time.Millisecond)
		defer rec.Stop()
		keys = 0
		events := 0
		for len(data) >= 2 {
			n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
			datagram := data[2 : 2+n]
			data = data[2+n:]
			if len(datagram) >= 2 && datagram[1]&0x7F == 101 {
				events++
			}
			media.HandleRTP(ep, datagram, phoneA.addr())
		}
		if got := len(rec.Audio()); got > 800 {
			t.Fatalf("recorded %d samples, max 800", got)
		}
		if keys > events {
			t.Fatalf("%d keys from %d event packets", keys, events)
		}
	})
}
