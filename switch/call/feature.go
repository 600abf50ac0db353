package call

import (
	"context"

	"switchboard/media/prompts"
	"switchboard/store"
	"switchboard/switch/ivr"
	"switchboard/switch/route"
)

// Handling changes a user's call handling (DND, forwarding) for feature codes.
type Handling interface {
	UpdateCallHandling(ext string, change func(*store.CallHandling) error) (store.CallHandling, error)
}

// runFeature answers a feature code: the voicemail applications, or a
// setting change confirmed by a spoken message.
func (c *Call) runFeature(plan route.Plan) {
	vm := c.m.deps.Voicemail
	switch plan.Feature {
	case route.VoicemailOwn, route.VoicemailAny, route.RecordGreeting:
		if vm == nil {
			c.fail(404, "Not Found", store.Failed, "no voicemail")
			return
		}
	}
	switch plan.Feature {
	case route.VoicemailOwn:
		c.serveApp("voicemail", func(ctx context.Context, s ivr.Session) error { return vm.Access(ctx, s, plan.Ext, false) })
	case route.VoicemailAny:
		c.serveApp("voicemail", func(ctx context.Context, s ivr.Session) error { return vm.Access(ctx, s, "", true) })
	case route.RecordGreeting:
		c.serveApp("greeting", func(ctx context.Context, s ivr.Session) error { return vm.RecordGreeting(ctx, s, plan.Ext) })
	default:
		c.toggle(plan)
	}
}

// toggle changes DND or forwarding for the caller's extension and says so.
func (c *Call) toggle(plan route.Plan) {
	if c.m.deps.Handling == nil {
		c.fail(404, "Not Found", store.Failed, "feature not available")
		return
	}
	h, err := c.m.deps.Handling.UpdateCallHandling(plan.Ext, func(h *store.CallHandling) error {
		switch plan.Feature {
		case route.DNDOn:
			h.DND = true
		case route.DNDOff:
			h.DND = false
		case route.DNDToggle:
			h.DND = !h.DND
		case route.ForwardOn:
			h.ForwardTo = plan.Arg
		case route.ForwardOff:
			h.ForwardTo = ""
		}
		return nil
	})
	if err != nil {
		c.log.Error("feature code", "feature", plan.Feature, "err", err)
		c.fail(500, "Server Internal Error", store.Failed, "feature code failed")
		return
	}
	c.log.Info("feature code", "ext", plan.Ext, "feature", plan.Feature, "dnd", h.DND, "forward_to", h.ForwardTo)
	var msg string
	switch {
	case plan.Feature == route.ForwardOn:
		msg = "forward_on"
	case plan.Feature == route.ForwardOff:
		msg = "forward_off"
	case h.DND:
		msg = "dnd_on"
	default:
		msg = "dnd_off"
	}
	c.serveApp("feature", func(ctx context.Context, s ivr.Session) error {
		clip, _ := prompts.Get(msg)
		_, err := s.Play(ctx, false, clip)
		return err
	})
}
