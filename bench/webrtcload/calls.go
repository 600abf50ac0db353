package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"switchboard/media/webrtc/webrtctest"
	"switchboard/switch/phonetest"
)

// pair is one bridged call: a browser (a pion peer, its SIP over TCP)
// calling a desk phone (plain RTP over UDP) through the switch.
type pair struct {
	web     *phonetest.Phone
	desk    *phonetest.Phone
	browser *webrtctest.Peer
	out     *phonetest.Call // the browser's SIP side
	in      *phonetest.Call // the desk phone's
}

// dial sets up call i: extensions first+2i (the browser) and first+2i+1.
func dial(ctx context.Context, sw string, first, i int, password string) (*pair, error) {
	a, b := strconv.Itoa(first+2*i), strconv.Itoa(first+2*i+1)
	p := &pair{}
	var err error
	if p.desk, err = phonetest.Start(phonetest.Options{User: b, Password: password + b, Server: sw}); err != nil {
		return p, err
	}
	if r, err := p.desk.Register(ctx, 600); err != nil || r.StatusCode != 200 {
		return p, fmt.Errorf("register %s: %v %v", b, r, err)
	}
	// A WebRTC offer does not fit in one UDP datagram: the browser's SIP goes over TCP.
	if p.web, err = phonetest.Start(phonetest.Options{User: a, Password: password + a, Server: sw, Transport: "TCP"}); err != nil {
		return p, err
	}
	if p.browser, err = webrtctest.NewPeer(); err != nil {
		return p, err
	}
	offer, err := p.browser.Offer()
	if err != nil {
		return p, err
	}
	if p.out, err = p.web.DialSDP(ctx, b, offer); err != nil {
		return p, fmt.Errorf("call %s → %s: %w", a, b, err)
	}
	if err := p.browser.Accept(p.out.Response().Body()); err != nil {
		return p, fmt.Errorf("call %s → %s: the browser rejects the answer: %w", a, b, err)
	}
	select {
	case p.in = <-p.desk.Incoming():
	case <-ctx.Done():
		return p, fmt.Errorf("call %s → %s: the desk phone never answered", a, b)
	}
	if err := p.browser.WaitConnected(ctx); err != nil {
		return p, fmt.Errorf("call %s → %s: %w", a, b, err)
	}
	return p, nil
}

// stream sends 20 ms frames each way until the deadline, each stamped
// with its number and send time, and counts them.
func (p *pair) stream(until time.Time, up, down *direction, packets int) {
	p.in.OnAudio(up.receiver(packets))
	p.browser.OnAudio(down.receiver(packets))
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(until, packets, func(f []byte) error { return p.in.SendAudio(f) }, down)
	}()
	send(until, packets, p.browser.SendFrame, up)
	<-done
}

func send(until time.Time, packets int, write func([]byte) error, d *direction) {
	frame := make([]byte, 160)
	for i := range frame {
		frame[i] = 0xff // μ-law silence
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for n := 0; n < packets && time.Now().Before(until); n++ {
		stamp(frame, uint32(n), time.Now())
		if write(frame) == nil {
			d.addSent()
		}
		<-t.C
	}
}

// hangup ends the call from the browser's side and closes everything.
func (p *pair) hangup(ctx context.Context) {
	if p.out != nil {
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		p.out.Hangup(hctx)
		cancel()
	}
	if p.browser != nil {
		p.browser.Close()
	}
	for _, ph := range []*phonetest.Phone{p.web, p.desk} {
		if ph != nil {
			ph.Close()
		}
	}
}
