package media_test

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// BenchmarkRelay measures one packet through the relay: parse, latch check,
// seq/ts rewrite, payload copy or transcode, and the sendto to the far phone
// (a socket nobody reads; the kernel drops what overflows). The read syscall
// is not included. Run with -benchmem: the relay must not allocate.
func BenchmarkRelay(b *testing.B) {
	for _, bc := range []struct {
		name           string
		codecA, codecB media.Codec
		pt             uint8
		payload        []byte
	}{
		{"same-codec", media.PCMU, media.PCMU, 0, tonetest.Generate(1000, 20, media.PCMU)[0]},
		{"transcode", media.PCMU, media.PCMA, 0, tonetest.Generate(1000, 20, media.PCMU)[0]},
		{"dtmf", media.PCMU, media.PCMA, 101, media.Event{Code: 5, Duration: 160}.AppendTo(nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEngine(b, media.Config{})
			epA, epB := newEndpoint(b, e), newEndpoint(b, e)
			phoneA, sinkB := newPhone(b), newPhone(b)
			epA.SetRemote(phoneA.addr(), bc.codecA, 101)
			epB.SetRemote(sinkB.addr(), bc.codecB, 96)
			defer media.Bridge(epA, epB)()
			pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: bc.pt, SSRC: 1}, Payload: bc.payload}).Marshal()
			src := phoneA.addr()

			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for i := 0; b.Loop(); i++ {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], uint32(i)*160)
				media.HandleRTP(epA, pkt, src)
			}
			b.StopTimer()
			if s := epB.Stats(); s.PacketsOut == 0 {
				b.Fatal("nothing relayed")
			}
		})
	}
}

// BenchmarkRelayLoopback is the whole path on loopback: phone A's sendto, the
// endpoint's read loop, the relay, and phone B's read.
func BenchmarkRelayLoopback(b *testing.B) {
	e := newEngine(b, media.Config{})
	c := &call{a: newPhone(b), b: newPhone(b), epA: newEndpoint(b, e), epB: newEndpoint(b, e)}
	c.epA.SetRemote(c.a.addr(), media.PCMU, 0)
	c.epB.SetRemote(c.b.addr(), media.PCMA, 0)
	defer media.Bridge(c.epA, c.epB)()
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: tonetest.Generate(1000, 20, media.PCMU)[0]}).Marshal()
	to, buf := epAddr(c.epA), make([]byte, 1500)

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		if _, err := c.a.conn.WriteToUDPAddrPort(pkt, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.b.conn.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEndpointLifecycle is what every call leg costs the media side
// without any audio: take a port pair from the pool, bind RTP and RTCP,
// start reading, then close and give the pair back.
func BenchmarkEndpointLifecycle(b *testing.B) {
	e := newEngine(b, media.Config{PortLow: 40000, PortHigh: 59999, Drain: -1})
	b.ReportAllocs()
	for b.Loop() {
		ep, err := e.NewEndpoint()
		if err != nil {
			b.Fatal(err)
		}
		ep.Close()
	}
}
