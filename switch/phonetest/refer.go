package phonetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Refer asks the switch to transfer the call's other party to ext (a blind
// transfer, RFC 3515) and returns the REFER's response, normally 202. The
// transfer's progress arrives as NOTIFYs on Notifies; the switch hangs
// this call up once the transfer is under way.
func (c *Call) Refer(ctx context.Context, ext string) (*sip.Response, error) {
	host, port, _ := net.SplitHostPort(c.phone.opts.Server)
	return c.ReferTo(ctx, "<sip:"+ext+"@"+net.JoinHostPort(host, port)+">")
}

// ReferTo sends a REFER with referTo as the Refer-To value as is (and any
// extra headers, such as Refer-Sub), for tests of what phones may send.
func (c *Call) ReferTo(ctx context.Context, referTo string, headers ...sip.Header) (*sip.Response, error) {
	req := sip.NewRequest(sip.REFER, c.remoteTarget())
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	host, _, _ := net.SplitHostPort(c.phone.opts.Server)
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:"+c.phone.opts.User+"@"+host+">"))
	for _, h := range headers {
		req.AppendHeader(h)
	}
	return c.dialog().Do(ctx, req)
}

// remoteTarget is where in-dialog requests go: the switch's Contact.
func (c *Call) remoteTarget() sip.Uri {
	if c.client != nil {
		return c.client.InviteResponse.Contact().Address
	}
	return c.server.InviteRequest.Contact().Address
}

// onNotify answers a NOTIFY in the call's dialog and keeps it for Notifies.
func (c *Call) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	select {
	case c.notifies <- req:
	default: // nobody reads: the test does not care
	}
}

// Notifies delivers the NOTIFYs the switch sends in this call's dialog:
// the progress of a transfer this phone asked for (see Sipfrag).
func (c *Call) Notifies() <-chan *sip.Request { return c.notifies }

// NextNotify waits for the call's next NOTIFY.
func (c *Call) NextNotify(ctx context.Context) (*sip.Request, error) {
	select {
	case n := <-c.notifies:
		return n, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no NOTIFY: %w", ctx.Err())
	}
}

// Sipfrag reads a transfer NOTIFY (Event: refer, message/sipfrag): the
// status line it carries, and whether it ends the subscription.
func Sipfrag(req *sip.Request) (code int, reason string, final bool, err error) {
	if h := req.GetHeader("Event"); h == nil || !strings.HasPrefix(strings.ToLower(h.Value()), "refer") {
		return 0, "", false, errors.New("NOTIFY without Event: refer")
	}
	if h := req.GetHeader("Content-Type"); h == nil || !strings.HasPrefix(strings.ToLower(h.Value()), "message/sipfrag") {
		return 0, "", false, errors.New("NOTIFY without Content-Type: message/sipfrag")
	}
	line, _, _ := strings.Cut(string(req.Body()), "\r\n")
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || parts[0] != "SIP/2.0" {
		return 0, "", false, fmt.Errorf("sipfrag %q is not a status line", line)
	}
	if code, err = strconv.Atoi(parts[1]); err != nil {
		return 0, "", false, fmt.Errorf("sipfrag %q: %w", line, err)
	}
	if len(parts) == 3 {
		reason = parts[2]
	}
	final = strings.HasPrefix(SubscriptionState(req), "terminated")
	return code, reason, final, nil
}
