package media_test

import (
	"bytes"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// toneULaw returns ms milliseconds of a tone as one μ-law clip.
func toneULaw(freq float64, ms int) []byte {
	return bytes.Join(tonetest.Generate(freq, ms, media.PCMU), nil)
}

// listener is a phone with its endpoint, latched, nothing bridged.
func newListener(t testing.TB, e *media.Engine, codec media.Codec) (*phone, *media.Endpoint) {
	t.Helper()
	p, ep := newPhone(t), newEndpoint(t, e)
	ep.SetRemote(p.addr(), codec, 101)
	return p, ep
}

// waitDone waits for ch to close, failing after 3 s.
func waitDone(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// A clip arrives as the same audio, padded with silence to whole frames, in
// the leg's codec, on the leg's stream: its SSRC, consecutive seq, ts by 160,
// the marker on the first packet only. Then the endpoint goes quiet.
func TestPlayClip(t *testing.T) {
	e := newEngine(t, media.Config{})
	for _, codec := range []media.Codec{media.PCMU, media.PCMA} {
		t.Run(codec.String(), func(t *testing.T) {
			p, ep := newListener(t, e, codec)
			p.sendAudio(epAddr(ep), codec, tonetest.Generate(1000, 20, codec)) // latch
			waitFor(t, "latch", func() bool { return ep.Stats().Latched == p.addr() })

			audio := toneULaw(1000, 220)[:1700] // 10 frames and 100 samples
			clip := media.Clip(audio)
			if clip.Duration() != 220*time.Millisecond {
				t.Errorf("Duration = %v, want 220ms", clip.Duration())
			}
			stop := ep.Play(clip)
			defer stop()
			pkts := p.recvN(11)
			checkStream(t, ep, pkts, uint8(codec))
			for i, pkt := range pkts {
				if pkt.Marker != (i == 0) || len(pkt.Payload) != 160 {
					t.Errorf("packet %d: marker %v, %d bytes", i, pkt.Marker, len(pkt.Payload))
				}
			}
			got := payloads(pkts)
			if codec == media.PCMU {
				want := append(slices.Clone(audio), bytes.Repeat([]byte{0xFF}, 60)...)
				if !bytes.Equal(bytes.Join(got, nil), want) {
					t.Error("the phone did not hear the clip's bytes")
				}
			}
			if err := tonetest.Check(got[:10], codec, 1000); err != nil {
				t.Error(err)
			}
			if tail := got[10][100:]; !bytes.Equal(tail, bytes.Repeat([]byte{codec.Silence()}, 60)) {
				t.Errorf("last frame not padded with %v silence: %x", codec, tail)
			}

			waitDone(t, "the clip's end", clip.Done())
			waitFor(t, "the pacer to drop the clip", func() bool { return media.Playing(e) == 0 })
			if n := ep.Stats().PacketsOut; n != 11 {
				t.Errorf("%d packets sent, want 11", n)
			}
			stop()
			stop() // idempotent, also after the end
		})
	}
}

// Clips plays prompts back to back as one clip.
func TestClipsJoin(t *testing.T) {
	e := newEngine(t, media.Config{})
	p, ep := newListener(t, e, media.PCMU)
	a, b := toneULaw(1000, 100)[:750], toneULaw(2000, 100)[:90]
	clip := media.Clips(a, b, nil)
	defer ep.Play(clip)()
	got := bytes.Join(payloads(p.recvN(6)), nil)
	if !bytes.Equal(got[:840], append(slices.Clone(a), b...)) || !bytes.Equal(got[840:], bytes.Repeat([]byte{0xFF}, 120)) {
		t.Error("Clips did not play the clips back to back, then silence")
	}
	waitDone(t, "the clips' end", clip.Done())
}

// Bridge → play → play → bridge: the far phone hears one stream, with the
// next sequence number, a timestamp advanced by the real gap and the marker
// bit at each switch.
func TestPlaySwitchesKeepStreamContinuous(t *testing.T) {
	clock := newFakeClock()
	e := newEngine(t, media.Config{})
	media.SetClock(e, clock.now)
	c := &call{a: newPhone(t), b: newPhone(t), epA: newEndpoint(t, e), epB: newEndpoint(t, e)}
	c.epA.SetRemote(c.a.addr(), media.PCMU, 0)
	c.epB.SetRemote(c.b.addr(), media.PCMA, 0)
	to, tone := epAddr(c.epA), tonetest.Generate(1000, 100, media.PCMU)

	// switched checks the first packet after a switch and the stream after it.
	switched := func(what string, last rtp.Packet, pkts []rtp.Packet, gap uint32) {
		t.Helper()
		checkStream(t, c.epB, pkts, uint8(media.PCMA))
		if got := pkts[0]; got.SequenceNumber != last.SequenceNumber+1 || got.Timestamp != last.Timestamp+gap || !got.Marker {
			t.Errorf("%s: seq %d ts %d marker %v; want seq %d ts %d marker true", what,
				got.SequenceNumber, got.Timestamp, got.Marker, last.SequenceNumber+1, last.Timestamp+gap)
		}
		for _, p := range pkts[1:] {
			if p.Marker {
				t.Errorf("%s: marker after the first packet", what)
			}
		}
	}

	media.Bridge(c.epA, c.epB)
	c.a.sendAudio(to, media.PCMU, tone)
	bridged := c.b.recvN(5)

	clock.advance(time.Second)
	clip := media.Clip(toneULaw(2000, 100))
	stop := c.epB.Play(clip)
	played := c.b.recvN(5)
	switched("bridge → clip", bridged[4], played, 8000)
	if err := tonetest.Check(payloads(played), media.PCMA, 2000); err != nil {
		t.Error(err)
	}
	waitDone(t, "the clip", clip.Done())
	c.a.sendAudio(to, media.PCMU, tone) // unbridged by Play: not relayed
	waitFor(t, "A's packets", func() bool { return c.epA.Stats().PacketsIn == 10 })

	clock.advance(300 * time.Millisecond)
	music := media.NewMusic(toneULaw(500, 1000))
	stopMusic := c.epB.Play(music)
	atB := c.b.recvN(5)
	switched("clip → music", played[4], atB, 2400)
	stop() // the clip's stop no longer touches the music
	more := c.b.recvN(3)
	checkStream(t, c.epB, append(atB, more...), uint8(media.PCMA))

	stopMusic() // no music frame is sent after it returns …
	clock.advance(500 * time.Millisecond)
	defer media.Bridge(c.epA, c.epB)()
	c.a.sendAudio(to, media.PCMU, tone)
	// … but some may still wait in B's socket: skip to A's audio.
	var back []rtp.Packet
	for len(back) < 5 {
		if p := c.b.recv(); len(back) > 0 || p.Marker {
			back = append(back, p)
		} else {
			more = append(more, p)
		}
	}
	switched("music → bridge", more[len(more)-1], back, 4000)
	if err := tonetest.Check(payloads(back), media.PCMA, 1000); err != nil {
		t.Error(err)
	}
}

// 300 endpoints, half μ-law half A-law, listen to one Music: all hear it in
// their codec (the pacer spreads them over its helper goroutines), and
// A-law frames are converted once a tick for all of them.
func TestMusicManyListeners(t *testing.T) {
	e := newEngine(t, media.Config{})
	music := media.NewMusic(toneULaw(1000, 1000))
	const n = 300
	phones := make([]*phone, n)
	codecs := make([]media.Codec, n)
	start := media.CurrentTick()
	for i := range n {
		codecs[i] = []media.Codec{media.PCMU, media.PCMA}[i%2]
		var ep *media.Endpoint
		phones[i], ep = newListener(t, e, codecs[i])
		defer ep.Play(music)()
	}
	for i, p := range phones {
		pkts := p.recvN(10)
		if err := tonetest.Check(payloads(pkts), codecs[i], 1000); err != nil {
			t.Fatalf("listener %d (%v): %v", i, codecs[i], err)
		}
	}
	ticks := media.CurrentTick() - start
	if conv := media.MusicConversions(music); conv > ticks+2 {
		t.Errorf("%d A-law conversions in %d ticks for %d A-law listeners: not shared", conv, ticks, n/2)
	}
	if media.Playing(e) != n {
		t.Errorf("Playing = %d, want %d", media.Playing(e), n)
	}
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); runtime.GOMAXPROCS(0) > 1 && !strings.Contains(stacks, "media.(*pacerRun).help") {
		t.Error("the pacer sends to 300 endpoints from one goroutine")
	}
}

// Music loops seamlessly whatever its length, also across a frame.
func TestMusicLoops(t *testing.T) {
	e := newEngine(t, media.Config{})
	media.ManualPacing(e)
	p, ep := newListener(t, e, media.PCMU)
	loop := toneULaw(1000, 20)[:100] // shorter than a frame
	defer ep.Play(media.NewMusic(loop))()
	for tick := range int64(3) {
		media.PaceTick(e, 1000+tick)
	}
	got := bytes.Join(payloads(p.recvN(3)), nil)
	want := bytes.Repeat(loop, 5)[:480]
	if !bytes.Equal(got, want) {
		t.Error("music did not loop seamlessly")
	}
}

// A listener's intro plays from its start, then the shared music from where
// it is.
func TestMusicIntro(t *testing.T) {
	e := newEngine(t, media.Config{})
	media.ManualPacing(e)
	music := media.NewMusic(toneULaw(1000, 1000))
	p1, ep1 := newListener(t, e, media.PCMU)
	p2, ep2 := newListener(t, e, media.PCMA)
	defer ep1.Play(music)()
	for tick := range int64(3) {
		media.PaceTick(e, 500+tick)
	}
	defer ep2.Play(music.WithIntro(toneULaw(2000, 40)))()
	for tick := range int64(4) {
		media.PaceTick(e, 503+tick)
	}
	first := payloads(p1.recvN(7))
	second := payloads(p2.recvN(4))
	if err := tonetest.Check(second[:2], media.PCMA, 2000); err != nil {
		t.Errorf("intro: %v", err)
	}
	// Ticks 505 and 506: both hear the same music frames.
	for i := range 2 {
		if !bytes.Equal(second[2+i], g711.Ulaw2Alaw(first[5+i])) {
			t.Errorf("after the intro, frame %d is not the music's frame of that tick", i)
		}
	}
}

// An endpoint with no remote yet (or on hold) sends nothing, but its clip
// still runs in time and ends.
func TestPlayWithoutRemote(t *testing.T) {
	e := newEngine(t, media.Config{})
	ep := newEndpoint(t, e)
	clip := media.Clip(toneULaw(1000, 60))
	defer ep.Play(clip)()
	waitDone(t, "the clip", clip.Done())
	if s := ep.Stats(); s.PacketsOut != 0 {
		t.Errorf("sent %d packets with no remote", s.PacketsOut)
	}
}

// stop and Close end the pacer: stop of the last playback waits for it.
func TestPlayStopAndCloseEndGoroutines(t *testing.T) {
	e := newEngine(t, media.Config{})
	music := media.NewMusic(toneULaw(1000, 200))
	var eps []*media.Endpoint
	var stops []func()
	for i := range 6 {
		p, ep := newListener(t, e, []media.Codec{media.PCMU, media.PCMA}[i%2])
		stops = append(stops, ep.Play(music))
		p.recv()
		eps = append(eps, ep)
	}
	for _, ep := range eps[:3] {
		ep.Close()
	}
	for _, stop := range stops[3:] {
		stop()
		stop()
	}
	if media.Playing(e) != 0 {
		t.Errorf("%d playbacks left", media.Playing(e))
	}
	checkNoGoroutine(t, "media.(*pacer).loop", "media.(*pacerRun).help")
	for _, stop := range stops[:3] {
		stop() // after Close: harmless
	}
	// Bridge ends a playback.
	ep1, ep2 := newEndpoint(t, e), newEndpoint(t, e)
	ep1.Play(music)
	media.Bridge(ep1, ep2)()
	if media.Playing(e) != 0 {
		t.Error("still playing after Bridge")
	}
	// Play on a closed endpoint does nothing.
	eps[0].Play(music)()
	if media.Playing(e) != 0 {
		t.Error("a closed endpoint plays")
	}
}
