package media

// OnDTMF calls fn once for each key the phone presses, as RFC 4733
// telephone-events with the payload type set by SetRemote, while the
// endpoint is not bridged (in a bridge, events are relayed to the other
// phone instead). digit is '0'–'9', '*', '#' or 'A'–'D'. fn runs on the
// engine's read loop, which serves many endpoints: it must not block (hand
// the digit to a channel or a call's goroutine). nil stops the reports.
func (ep *Endpoint) OnDTMF(fn func(digit byte)) {
	ep.mu.Lock()
	ep.onDTMF = fn
	ep.mu.Unlock()
}

// dtmfIn tells key presses apart: every packet of one press (start,
// updates, the repeated end packets) carries the timestamp of its start, so
// a press is reported at the first packet with a new timestamp from the
// phone's stream, and packets with that timestamp or an older one are
// duplicates or late. The read loop owns it.
type dtmfIn struct {
	started bool
	ssrc    uint32
	ts      uint32
}

// press returns the digit of a new key press in an event packet, or false.
func (d *dtmfIn) press(ssrc, ts uint32, payload []byte) (digit byte, ok bool) {
	ev, err := ParseEvent(payload)
	if err != nil || int(ev.Code) >= len(eventDigits) {
		return 0, false
	}
	if d.started && ssrc == d.ssrc && int32(ts-d.ts) <= 0 {
		return 0, false
	}
	d.started, d.ssrc, d.ts = true, ssrc, ts
	return eventDigits[ev.Code], true
}
