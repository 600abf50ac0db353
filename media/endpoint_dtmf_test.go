package media_test

import (
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// digits collects what OnDTMF reports.
func digits(ep *media.Endpoint) <-chan byte {
	ch := make(chan byte, 16)
	ep.OnDTMF(func(d byte) { ch <- d })
	return ch
}

func nextDigit(t *testing.T, ch <-chan byte) byte {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(3 * time.Second):
		t.Fatal("no digit reported")
		return 0
	}
}

// Each key press is reported once, though the phone sends five packets for
// it (three of them the same end packet); repeats and late packets of an
// earlier press are not reported again; a prompt playing does not matter.
func TestOnDTMFOncePerPress(t *testing.T) {
	e := newEngine(t, media.Config{})
	p, ep := newListener(t, e, media.PCMU)
	to := epAddr(ep)
	got := digits(ep)
	defer ep.Play(media.Clip(toneULaw(1000, 2000)))() // barge-in: keys during a prompt

	for _, code := range []uint8{1, 5, 11} {
		p.sendEvent(to, 101, code)
	}
	// The last end packet of '#' again, late: same timestamp.
	p.ts -= 480
	p.send(to, 101, false, media.Event{Code: 11, End: true, Duration: 480}.AppendTo(nil))
	p.ts += 480
	p.send(to, 96, false, media.Event{Code: 3}.AppendTo(nil)) // not the leg's DTMF type
	p.send(to, 101, false, []byte{2, 0})                      // short: not an event
	p.sendAudio(to, media.PCMU, tonetest.Generate(1000, 20, media.PCMU))
	p.ts += 160
	p.send(to, 101, false, media.Event{Code: 16}.AppendTo(nil)) // flash: not a key
	p.ts += 160
	p.sendEvent(to, 101, 14) // 'C', only its end packets arrive
	p.sendEvent(to, 101, 10)

	want := "15#C*"
	var heard []byte
	for range want {
		heard = append(heard, nextDigit(t, got))
	}
	if string(heard) != want {
		t.Errorf("reported %q, want %q", heard, want)
	}

	// A new stream (the phone restarted it) starts over.
	p.ssrc++
	p.ts = 0
	p.sendEvent(to, 101, 0)
	if d := nextDigit(t, got); d != '0' {
		t.Errorf("after a new SSRC: %q, want '0'", d)
	}
}

// In a bridge, key presses go to the other phone, not to OnDTMF; after
// unbridging they are reported again; OnDTMF(nil) stops the reports.
func TestOnDTMFNotInBridge(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMU, 101, 101)
	to := epAddr(c.epA)
	got := digits(c.epA)
	c.a.sendEvent(to, 101, 7)
	for range 5 {
		if pkt := c.b.recv(); pkt.PayloadType != 101 {
			t.Fatalf("B got PT %d, want the relayed event", pkt.PayloadType)
		}
	}
	unbridge := media.Bridge(c.epA, c.epB)
	c.a.send(to, 101, true, media.Event{Code: 4, Duration: 160}.AppendTo(nil))
	c.b.recv()
	unbridge() // mid-press: its end packets are not reported as a new key
	c.a.send(to, 101, false, media.Event{Code: 4, End: true, Duration: 320}.AppendTo(nil))
	c.a.ts += 320
	c.a.sendEvent(to, 101, 8)
	if d := nextDigit(t, got); d != '8' {
		t.Errorf("reported %q, want '8' (the key pressed in the bridge is not reported)", d)
	}
	c.epA.OnDTMF(nil)
	c.a.sendEvent(to, 101, 9)
	waitFor(t, "the last key's packets", func() bool { return c.epA.Stats().PacketsIn == 17 })
	select {
	case d := <-got:
		t.Errorf("reported %q after OnDTMF(nil)", d)
	default:
	}
}
