package control

import (
	"net/http"

	"switchboard/store"
)

// rulePatch changes one rule: switch it on or off, or move it.
type rulePatch struct {
	Enabled  *bool `json:"enabled,omitempty"`
	Position *int  `json:"position,omitempty"`
}

// handleRules mounts the answering-rule operations (rules.go) on the
// control API; h is Handler's route helper.
func handleRules(h func(string, func(http.ResponseWriter, *http.Request) error), ops Ops) {
	h("GET /v1/handling/{ext}", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.CallHandling(r.Context(), r.PathValue("ext"), r.URL.Query().Get("at"))
		return reply(w, out, err)
	})
	h("POST /v1/handling/{ext}/rules", func(w http.ResponseWriter, r *http.Request) error {
		var spec RuleSpec
		if err := readJSON(r, &spec); err != nil {
			return err
		}
		out, err := ops.AddRule(r.Context(), r.PathValue("ext"), spec)
		return reply(w, out, err)
	})
	h("DELETE /v1/handling/{ext}/rules/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.RemoveRule(r.Context(), r.PathValue("ext"), r.PathValue("ref"))
		return reply(w, out, err)
	})
	h("PATCH /v1/handling/{ext}/rules/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		var p rulePatch
		if err := readJSON(r, &p); err != nil {
			return err
		}
		ext, ref := r.PathValue("ext"), r.PathValue("ref")
		switch {
		case (p.Enabled == nil) == (p.Position == nil):
			return errorf(http.StatusBadRequest, "give either enabled or position")
		case p.Enabled != nil:
			out, err := ops.SetRuleEnabled(r.Context(), ext, ref, *p.Enabled)
			return reply(w, out, err)
		}
		out, err := ops.MoveRule(r.Context(), ext, ref, *p.Position)
		return reply(w, out, err)
	})
	h("PUT /v1/handling/{ext}/dnd", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			On bool `json:"on"`
		}
		if err := readJSON(r, &req); err != nil {
			return err
		}
		out, err := ops.SetDND(r.Context(), r.PathValue("ext"), req.On)
		return reply(w, out, err)
	})
	h("PUT /v1/handling/{ext}/forward", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Target string `json:"target"`
		}
		if err := readJSON(r, &req); err != nil {
			return err
		}
		out, err := ops.SetForward(r.Context(), r.PathValue("ext"), req.Target)
		return reply(w, out, err)
	})
	h("GET /v1/timeframes", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.ListTimeFrames(r.Context(), r.URL.Query().Get("owner"))
		return reply(w, out, err)
	})
	h("POST /v1/timeframes", func(w http.ResponseWriter, r *http.Request) error {
		var tf store.TimeFrame
		if err := readJSON(r, &tf); err != nil {
			return err
		}
		out, err := ops.AddTimeFrame(r.Context(), tf)
		return reply(w, out, err)
	})
	h("PUT /v1/timeframes/{id}", func(w http.ResponseWriter, r *http.Request) error {
		var tf store.TimeFrame
		if err := readJSON(r, &tf); err != nil {
			return err
		}
		tf.ID = r.PathValue("id")
		out, err := ops.UpdateTimeFrame(r.Context(), tf)
		return reply(w, out, err)
	})
	h("DELETE /v1/timeframes/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.RemoveTimeFrame(r.Context(), r.PathValue("ref"))
		return reply(w, out, err)
	})
	h("GET /v1/timezone", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.TimeZone(r.Context())
		return reply(w, out, err)
	})
	h("PUT /v1/timezone", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Zone string `json:"zone"`
		}
		if err := readJSON(r, &req); err != nil {
			return err
		}
		out, err := ops.SetTimeZone(r.Context(), req.Zone)
		return reply(w, out, err)
	})
}
