package call

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A leg's dialog is either one we answered (server) or one we started
// (client). After a transfer the waiting party may be either, so the call
// works through these instead of naming the side.

// done is closed when the leg's dialog ends (BYE either way, CANCEL).
func (l *leg) done() <-chan struct{} {
	if l.server != nil {
		return l.server.Context().Done()
	}
	return l.client.Context().Done()
}

// gone reports whether the leg's dialog has ended.
func (l *leg) gone() bool {
	select {
	case <-l.done():
		return true
	default:
		return false
	}
}

// bye hangs the leg up; it cannot be cancelled by the switch stopping, but
// gives up after a few seconds.
func (l *leg) bye(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var err error
	if l.server != nil {
		err = l.server.Bye(ctx)
	} else {
		err = l.client.Bye(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		l.call.log.Debug("bye", "device", l.device, "err", err)
	}
}

// do sends an in-dialog request (NOTIFY) on the leg and returns the final response.
func (l *leg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if l.server != nil {
		return l.server.Do(ctx, req)
	}
	return l.client.Do(ctx, req)
}

// remoteTarget is the Request-URI of requests on the leg: the phone's
// Contact (sipgo sends them to where the phone really is, for NAT).
func (l *leg) remoteTarget() sip.Uri {
	if l.server != nil {
		if c := l.server.InviteRequest.Contact(); c != nil {
			return c.Address
		}
		return l.server.InviteRequest.From().Address
	}
	if c := l.client.InviteResponse.Contact(); c != nil {
		return c.Address
	}
	return l.client.InviteRequest.Recipient
}

// release forgets the leg's dialog and frees its media endpoint.
func (l *leg) release() {
	m := l.call.m
	if l.server != nil {
		m.removeLeg(l.server.ID)
		l.server.Close()
	}
	if l.client != nil {
		m.removeLeg(l.client.ID)
		l.client.Close()
	}
	l.closeMedia()
}
