package control

import (
	"context"
	"net/url"

	"switchboard/store"
)

// The answering-rule operations over the control socket (socket_rules.go).

func handlingPath(ext string) string { return "/v1/handling/" + url.PathEscape(ext) }

func rulePath(ext, ref string) string { return handlingPath(ext) + "/rules/" + url.PathEscape(ref) }

func (c *Client) CallHandling(ctx context.Context, ext, at string) (out HandlingView, err error) {
	return out, c.doJSON(ctx, "GET", handlingPath(ext)+"?at="+url.QueryEscape(at), nil, &out)
}

func (c *Client) AddRule(ctx context.Context, ext string, spec RuleSpec) (out RuleResult, err error) {
	return out, c.doJSON(ctx, "POST", handlingPath(ext)+"/rules", spec, &out)
}

func (c *Client) RemoveRule(ctx context.Context, ext, ref string) (out RuleResult, err error) {
	return out, c.doJSON(ctx, "DELETE", rulePath(ext, ref), nil, &out)
}

func (c *Client) SetRuleEnabled(ctx context.Context, ext, ref string, enabled bool) (out RuleResult, err error) {
	return out, c.doJSON(ctx, "PATCH", rulePath(ext, ref), rulePatch{Enabled: &enabled}, &out)
}

func (c *Client) MoveRule(ctx context.Context, ext, ref string, to int) (out RuleResult, err error) {
	return out, c.doJSON(ctx, "PATCH", rulePath(ext, ref), rulePatch{Position: &to}, &out)
}

func (c *Client) SetDND(ctx context.Context, ext string, on bool) (out HandlingView, err error) {
	return out, c.doJSON(ctx, "PUT", handlingPath(ext)+"/dnd", map[string]bool{"on": on}, &out)
}

func (c *Client) SetForward(ctx context.Context, ext, target string) (out HandlingView, err error) {
	return out, c.doJSON(ctx, "PUT", handlingPath(ext)+"/forward", map[string]string{"target": target}, &out)
}

func (c *Client) ListTimeFrames(ctx context.Context, owner string) (out []TimeFrameView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/timeframes?owner="+url.QueryEscape(owner), nil, &out)
}

func (c *Client) AddTimeFrame(ctx context.Context, tf store.TimeFrame) (out TimeFrameView, err error) {
	return out, c.doJSON(ctx, "POST", "/v1/timeframes", tf, &out)
}

func (c *Client) UpdateTimeFrame(ctx context.Context, tf store.TimeFrame) (out TimeFrameView, err error) {
	return out, c.doJSON(ctx, "PUT", "/v1/timeframes/"+url.PathEscape(tf.ID), tf, &out)
}

func (c *Client) RemoveTimeFrame(ctx context.Context, ref string) (out TimeFrameView, err error) {
	return out, c.doJSON(ctx, "DELETE", "/v1/timeframes/"+url.PathEscape(ref), nil, &out)
}

func (c *Client) TimeZone(ctx context.Context) (out TimeZoneView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/timezone", nil, &out)
}

func (c *Client) SetTimeZone(ctx context.Context, zone string) (out TimeZoneView, err error) {
	return out, c.doJSON(ctx, "PUT", "/v1/timezone", map[string]string{"zone": zone}, &out)
}
