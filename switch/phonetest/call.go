package phonetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// Behavior says what the phone does with incoming calls.
type Behavior struct {
	Reject   int           // 0: answer; else answer with this status (486 busy, 603 decline)
	Silent   bool          // ring (180) but never answer
	Delay    time.Duration // ring this long before answering/rejecting
	Codec    media.Codec   // preferred codec when answering (default PCMU)
	NoRinger bool          // send no 180
	// EarlyTone, when set, makes the phone answer 183 with SDP and send this
	// tone (Hz) as early media for Delay before it answers or rejects, as a
	// phone playing its own ringback or an announcement does.
	EarlyTone float64
	// Answer, when set, makes the SDP answer from the switch's offer (a
	// browser's, from webrtctest) instead of the phone's own RTP socket;
	// an error rejects the call with 488.
	Answer func(offer []byte) ([]byte, error)
}

// Call is one call on a test phone, with its own RTP socket.
type Call struct {
	phone  *Phone
	client *sipgo.DialogClientSession // we called
	server *sipgo.DialogServerSession // we were called
	rtp    net.PacketConn
	codec  media.Codec
	remote atomic.Pointer[netip.AddrPort]
	ssrc   uint32
	seq    uint16
	ts     uint32
	sdpVer uint64

	onAudio atomic.Pointer[func(payload []byte, at time.Time)]

	mu       sync.Mutex
	received [][]byte     // audio payloads, in arrival order
	headers  []rtp.Header // every audio packet's header, kept for the whole call
	events   []uint8      // RFC 4733 event codes seen (deduplicated per timestamp)
	lastEvTS uint32
	readDone chan struct{}
	notifies chan *sip.Request // NOTIFYs in the call's dialog (a REFER's progress)
}

// SetBehavior sets how the phone treats incoming calls from now on.
func (p *Phone) SetBehavior(b Behavior) { p.behavior.Store(&b) }

// Incoming delivers each call offered to this phone once it is answered.
func (p *Phone) Incoming() <-chan *Call { return p.incoming }

// Offers delivers every new INVITE the phone receives, whether it answers
// or not (to check who rang and what they were shown).
func (p *Phone) Offers() <-chan *sip.Request { return p.offers }

func (p *Phone) setupCalls() {
	p.incoming = make(chan *Call, 16)
	p.offers = make(chan *sip.Request, 16)
	p.dialogs = map[string]*Call{}
	p.SetBehavior(Behavior{})
	p.dua = &sipgo.DialogUA{Client: p.cli, ContactHDR: sip.ContactHeader{Address: p.Contact()}, RewriteContact: true}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if c := p.findDialog(req); c != nil && c.server != nil {
			c.server.ReadAck(req, tx)
		}
	})
	p.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c := p.findDialog(req)
		switch {
		case c == nil:
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		case c.server != nil:
			c.server.ReadBye(req, tx)
		default:
			c.client.ReadBye(req, tx)
		}
	})
}

func (p *Phone) findDialog(req *sip.Request) *Call {
	p.dmu.Lock()
	defer p.dmu.Unlock()
	for _, id := range []func(*sip.Request) (string, error){sip.DialogIDFromRequestUAS, sip.DialogIDFromRequestUAC} {
		if k, err := id(req); err == nil && p.dialogs[k] != nil {
			return p.dialogs[k]
		}
	}
	return nil
}

func (p *Phone) addDialog(id string, c *Call) {
	p.dmu.Lock()
	p.dialogs[id] = c
	p.dmu.Unlock()
}

func (p *Phone) newCall(codec media.Codec) (*Call, error) {
	conn, err := net.ListenPacket("udp", net.JoinHostPort(p.opts.LocalIP, "0"))
	if err != nil {
		return nil, err
	}
	c := &Call{phone: p, rtp: conn, codec: codec, ssrc: uint32(time.Now().UnixNano()), readDone: make(chan struct{}),
		notifies: make(chan *sip.Request, 16)}
	p.wg.Go(c.readRTP)
	p.dmu.Lock()
	p.conns = append(p.conns, conn)
	p.dmu.Unlock()
	return c, nil
}

// sdp describes this call's RTP socket.
func (c *Call) sdp(codecs []media.Codec, dir media.Direction) []byte {
	ap := netip.MustParseAddrPort(c.rtp.LocalAddr().String())
	c.sdpVer++
	return media.BuildSDP(media.SessionDesc{Addr: ap.Addr(), Port: int(ap.Port()), Codecs: codecs, DTMFPT: 101,
		Direction: dir, Ptime: 20}, uint64(ap.Port()), c.sdpVer)
}

func (c *Call) setRemote(body []byte) error {
	d, err := media.ParseSDP(body)
	if err != nil {
		return err
	}
	ap := netip.AddrPortFrom(d.Addr, uint16(d.Port))
	c.remote.Store(&ap)
	if len(d.Codecs) > 0 {
		c.codec = d.Codecs[0]
	}
	return nil
}

// Dial calls ext through the switch, answering its 407 challenge, and
// returns once the call is answered; a rejection is a *sipgo.ErrDialogResponse.
func (p *Phone) Dial(ctx context.Context, ext string, codecs ...media.Codec) (*Call, error) {
	if len(codecs) == 0 {
		codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	c, err := p.newCall(codecs[0])
	if err != nil {
		return nil, err
	}
	return p.dial(ctx, ext, c, c.sdp(codecs, media.SendRecv))
}

// DialSDP calls ext offering the SDP body given (a browser's WebRTC offer
// from webrtctest, say) instead of the call's own RTP socket; the answer is
// in the call's Response. The call's own media methods send nowhere useful.
func (p *Phone) DialSDP(ctx context.Context, ext string, offer []byte) (*Call, error) {
	c, err := p.newCall(media.PCMU)
	if err != nil {
		return nil, err
	}
	return p.dial(ctx, ext, c, offer)
}

func (p *Phone) dial(ctx context.Context, ext string, c *Call, offer []byte) (*Call, error) {
	target := p.serverURI()
	target.User = ext
	req := sip.NewRequest(sip.INVITE, target)
	aor := sip.Uri{Scheme: "sip", User: p.opts.User, Host: target.Host}
	req.AppendHeader(&sip.FromHeader{DisplayName: cmp.Or(p.opts.DisplayName, "Phone "+p.opts.User), Address: aor,
		Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(10)}}})
	req.AppendHeader(&sip.ToHeader{Address: target})
	if len(offer) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	if p.opts.SessionExpires > 0 {
		req.AppendHeader(sip.NewHeader("Supported", "timer"))
		req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(p.opts.SessionExpires)))
	}
	req.SetBody(offer)
	req.SetTransport(p.opts.Transport)
	d, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	c.client = d
	early := func(r *sip.Response) error {
		if r.StatusCode == 183 && len(r.Body()) > 0 {
			c.setRemote(r.Body()) // early media: what the phone hears before an answer
		}
		return nil
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.opts.User, Password: p.opts.Password, OnResponse: early}); err != nil {
		d.Close()
		if heard := c.Received(); len(heard) > 0 {
			return nil, &FailedDial{Err: err, EarlyMedia: heard}
		}
		return nil, err
	}
	if err := c.setRemote(d.InviteResponse.Body()); err != nil {
		return nil, fmt.Errorf("answer SDP: %w", err)
	}
	p.addDialog(d.ID, c)
	if len(offer) == 0 {
		// Late offer: the 200 carried the switch's offer; our answer goes in the ACK.
		if err := d.WriteAck(ctx, lateAnswerAck(d, c.sdp([]media.Codec{c.codec}, media.SendRecv))); err != nil {
			return nil, err
		}
		return c, nil
	}
	if err := d.Ack(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// DialLateOffer calls ext with an INVITE without SDP (a late offer, as some
// phones and gateways send): the switch offers in its 200 and this phone
// answers in the ACK.
func (p *Phone) DialLateOffer(ctx context.Context, ext string) (*Call, error) {
	c, err := p.newCall(media.PCMU)
	if err != nil {
		return nil, err
	}
	return p.dial(ctx, ext, c, nil)
}

// lateAnswerAck is the ACK to the 200 of an INVITE without SDP, carrying
// our answer (sipgo's Ack sends none).
func lateAnswerAck(d *sipgo.DialogClientSession, answer []byte) *sip.Request {
	target := d.InviteRequest.Recipient
	if contact := d.InviteResponse.Contact(); contact != nil {
		target = contact.Address
	}
	ack := sip.NewRequest(sip.ACK, *target.Clone())
	for _, h := range []sip.Header{d.InviteRequest.From(), d.InviteResponse.To(), d.InviteRequest.CallID()} {
		ack.AppendHeader(sip.HeaderClone(h))
	}
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: d.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
	maxForwards := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&maxForwards)
	if h := d.InviteRequest.Contact(); h != nil {
		ack.AppendHeader(sip.HeaderClone(h))
	}
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(answer)
	ack.SetTransport(d.InviteRequest.Transport())
	return ack
}

// FailedDial is a call that was not answered after early media played
// (a "not available" message in a 183); it unwraps to the SIP failure.
type FailedDial struct {
	Err        error
	EarlyMedia [][]byte // audio payloads heard before the failure
}

func (e *FailedDial) Error() string { return e.Err.Error() }
func (e *FailedDial) Unwrap() error { return e.Err }

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if c := p.findDialog(req); c != nil {
			c.answerReinvite(req, tx)
			return
		}
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	select {
	case p.offers <- req:
	default:
	}
	b := *p.behavior.Load()
	d, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	defer d.Close()
	if !b.NoRinger {
		d.Respond(180, "Ringing", nil)
	}
	var c *Call
	if b.EarlyTone != 0 {
		if c = p.acceptOffer(d, req, b); c == nil {
			return
		}
		d.Respond(183, "Session Progress", c.sdp([]media.Codec{c.codec}, media.SendRecv),
			sip.NewHeader("Content-Type", "application/sdp"))
		go c.SendTone(d.Context(), b.EarlyTone, b.Delay)
	}
	select {
	case <-time.After(b.Delay):
	case <-d.Context().Done():
		return // cancelled while ringing
	}
	switch {
	case b.Silent:
		<-d.Context().Done()
		return
	case b.Reject != 0:
		d.Respond(b.Reject, rejectReason(b.Reject), nil)
		return
	}
	if b.Answer != nil {
		p.answerWith(b.Answer, req, d)
		return
	}
	if c == nil {
		if c = p.acceptOffer(d, req, b); c == nil {
			return
		}
	}
	if err := d.RespondSDP(c.sdp([]media.Codec{c.codec}, media.SendRecv)); err != nil {
		return
	}
	select {
	case p.incoming <- c:
	default:
	}
	<-d.Context().Done() // keep the INVITE transaction's handler alive for the call
}

// acceptOffer reads the switch's offer into a new call, or answers the
// INVITE with an error and returns nil.
func (p *Phone) acceptOffer(d *sipgo.DialogServerSession, req *sip.Request, b Behavior) *Call {
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		d.Respond(488, "Not Acceptable Here", nil)
		return nil
	}
	codec, err := media.Negotiate(offer, []media.Codec{media.PCMU, media.PCMA})
	if err != nil {
		d.Respond(488, "Not Acceptable Here", nil)
		return nil
	}
	if b.Codec != 0 && slices.Contains(offer.Codecs, b.Codec) {
		codec = b.Codec // this phone prefers another codec the switch offered
	}
	c, err := p.newCall(codec)
	if err != nil {
		d.Respond(500, "Server Internal Error", nil)
		return nil
	}
	c.server = d
	ap := netip.AddrPortFrom(offer.Addr, uint16(offer.Port))
	c.remote.Store(&ap)
	p.addDialog(d.ID, c)
	return c
}

// answerWith answers an INVITE with the SDP body answer makes.
func (p *Phone) answerWith(answer func([]byte) ([]byte, error), req *sip.Request, d *sipgo.DialogServerSession) {
	body, err := answer(req.Body())
	if err != nil {
		d.Respond(488, "Not Acceptable Here", nil)
		return
	}
	c, err := p.newCall(media.PCMU)
	if err != nil {
		d.Respond(500, "Server Internal Error", nil)
		return
	}
	c.server = d
	p.addDialog(d.ID, c)
	if err := d.RespondSDP(body); err != nil {
		return
	}
	select {
	case p.incoming <- c:
	default:
	}
	<-d.Context().Done()
}

// answerReinvite accepts the switch's re-INVITE with our current description.
func (c *Call) answerReinvite(req *sip.Request, tx sip.ServerTransaction) {
	if len(req.Body()) > 0 {
		c.setRemote(req.Body())
	}
	res := sip.NewSDPResponseFromRequest(req, c.sdp([]media.Codec{c.codec}, media.SendRecv))
	res.AppendHeader(sip.HeaderClone(&c.phone.dua.ContactHDR))
	tx.Respond(res)
}

func (c *Call) dialog() interface {
	Context() context.Context
	Bye(context.Context) error
	Do(context.Context, *sip.Request) (*sip.Response, error)
} {
	if c.client != nil {
		return c.client
	}
	return c.server
}

// Response is the final response that answered our INVITE.
func (c *Call) Response() *sip.Response {
	if c.client == nil {
		return nil
	}
	return c.client.InviteResponse
}

// Update sends an UPDATE without a body (a session refresh) and returns the answer.
func (c *Call) Update(ctx context.Context) (*sip.Response, error) {
	if c.client == nil {
		return nil, errors.New("UPDATE from the called side is not supported by phonetest")
	}
	return c.client.Do(ctx, sip.NewRequest(sip.UPDATE, c.client.InviteResponse.Contact().Address))
}

// SendInfoDigit presses a key the way older desk phones do: a SIP INFO
// with application/dtmf-relay instead of an RFC 4733 event.
func (c *Call) SendInfoDigit(ctx context.Context, digit byte) error {
	if c.client == nil {
		return errors.New("INFO from the called side is not supported by phonetest")
	}
	req := sip.NewRequest(sip.INFO, c.client.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(digit) + "\r\nDuration=160\r\n"))
	res, err := c.client.Do(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("INFO answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// Done is closed when the call has ended (either side hung up).
func (c *Call) Done() <-chan struct{} { return c.dialog().Context().Done() }

// Hangup sends BYE.
func (c *Call) Hangup(ctx context.Context) error { return c.dialog().Bye(ctx) }

// Codec is the codec the call uses.
func (c *Call) Codec() media.Codec { return c.codec }

// Hold sends a re-INVITE with a=sendonly (a phone's hold key); Resume with sendrecv.
func (c *Call) Hold(ctx context.Context) (*sip.Response, error) {
	return c.reinvite(ctx, media.SendOnly)
}

// Resume takes the call off hold.
func (c *Call) Resume(ctx context.Context) (*sip.Response, error) {
	return c.reinvite(ctx, media.SendRecv)
}

// Reinvite offers codecs again (a codec change).
func (c *Call) Reinvite(ctx context.Context, codecs ...media.Codec) (*sip.Response, error) {
	return c.sendReinvite(ctx, c.sdp(codecs, media.SendRecv))
}

// ReinviteSDP sends a re-INVITE with the SDP body given (a browser's new
// offer: hold, resume) and returns the answer.
func (c *Call) ReinviteSDP(ctx context.Context, offer []byte) (*sip.Response, error) {
	return c.sendReinvite(ctx, offer)
}

func (c *Call) reinvite(ctx context.Context, dir media.Direction) (*sip.Response, error) {
	return c.sendReinvite(ctx, c.sdp([]media.Codec{c.codec}, dir))
}

func (c *Call) sendReinvite(ctx context.Context, body []byte) (*sip.Response, error) {
	if c.client == nil {
		return nil, errors.New("re-INVITE from the called side is not supported by phonetest")
	}
	req := sip.NewRequest(sip.INVITE, c.client.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	res, err := c.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		c.setRemote(res.Body())
		ack := sip.NewRequest(sip.ACK, req.Recipient)
		ack.AppendHeader(sip.HeaderClone(req.CSeq()))
		ack.CSeq().MethodName = sip.ACK
		c.client.WriteRequest(ack)
	}
	return res, nil
}

// SendTone sends a sine tone for the duration as 20 ms RTP packets in real time.
func (c *Call) SendTone(ctx context.Context, freq float64, d time.Duration) error {
	frames := tonetest.Generate(freq, int(d/time.Millisecond), c.codec)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for _, f := range frames {
		if err := c.sendRTP(uint8(c.codec), f, false); err != nil {
			return err
		}
		c.ts += uint32(len(f))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// SendDTMF sends one RFC 4733 event (payload type 101) as a phone does:
// a few updates, then three end packets, all with one timestamp.
func (c *Call) SendDTMF(digit uint8) error {
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		end := i >= 3
		p := []byte{digit, 10, byte(dur >> 8), byte(dur)}
		if end {
			p[1] |= 0x80
		}
		if err := c.sendRTP(101, p, i == 0); err != nil {
			return err
		}
	}
	c.ts += 640
	return nil
}

func (c *Call) sendRTP(pt uint8, payload []byte, marker bool) error {
	dst := c.remote.Load()
	if dst == nil {
		return errors.New("no remote media address")
	}
	c.seq++
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: c.seq, Timestamp: c.ts,
		SSRC: c.ssrc, Marker: marker}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		return err
	}
	_, err = c.rtp.WriteTo(b, net.UDPAddrFromAddrPort(*dst))
	return err
}

func (c *Call) readRTP() {
	defer close(c.readDone)
	buf := make([]byte, 1500)
	for {
		n, _, err := c.rtp.ReadFrom(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		if f := c.onAudio.Load(); f != nil && (pkt.PayloadType == 0 || pkt.PayloadType == 8) {
			(*f)(pkt.Payload, time.Now())
			continue
		}
		c.mu.Lock()
		switch {
		case pkt.PayloadType == 0 || pkt.PayloadType == 8:
			c.received = append(c.received, append([]byte(nil), pkt.Payload...))
			h := pkt.Header
			h.CSRC, h.Extensions = nil, nil
			c.headers = append(c.headers, h)
		case len(pkt.Payload) >= 4 && pkt.Payload[1]&0x80 != 0 && pkt.Timestamp != c.lastEvTS:
			c.lastEvTS = pkt.Timestamp
			c.events = append(c.events, pkt.Payload[0])
		}
		c.mu.Unlock()
	}
}

// OnAudio hands every audio packet's payload that arrives from now on to f,
// with its arrival time, instead of keeping it for Received (measurement
// tools). f runs on the call's read loop and must not keep payload.
func (c *Call) OnAudio(f func(payload []byte, at time.Time)) { c.onAudio.Store(&f) }

// SendAudio sends one audio packet (20 ms of the call's codec, 160 bytes)
// with the next sequence number and timestamp.
func (c *Call) SendAudio(payload []byte) error {
	err := c.sendRTP(uint8(c.codec), payload, false)
	c.ts += uint32(len(payload))
	return err
}

// Received returns the audio payloads received so far and forgets them.
func (c *Call) Received() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.received
	c.received = nil
	return out
}

// Headers returns the RTP headers of every audio packet received in the
// call so far (not forgotten by Received): to check that the stream the
// switch sends stays one stream across hold, music and transfers.
func (c *Call) Headers() []rtp.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rtp.Header(nil), c.headers...)
}

// Events returns the DTMF events received so far.
func (c *Call) Events() []uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint8(nil), c.events...)
}

// HearsTone checks that the audio received since the last look is the tone
// freq at the level tonetest.Generate made it, decoded with the call's codec.
func (c *Call) HearsTone(freq float64) error {
	frames := c.Received()
	if len(frames) < 10 {
		return fmt.Errorf("only %d audio packets arrived", len(frames))
	}
	return tonetest.Check(frames, c.codec, freq)
}

func rejectReason(code int) string {
	switch code {
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	case 480:
		return "Temporarily Unavailable"
	}
	return "Rejected"
}
