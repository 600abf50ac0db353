package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

func TestAnsweringRulesPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	b := e.login("200")

	r := b.get("/me/rules")
	contains(t, r, "No rules yet.", "No rule applies now", `id="plan"`, "ring 200")
	add := func(form url.Values) resp {
		t.Helper()
		return b.post("/me/rules", form)
	}
	r = add(url.Values{"name": {""}, "first_action": {"ring_my_phones"}, "first_seconds": {"0"}, "next_action": {"voicemail"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("empty name: %d", r.code)
	}
	contains(t, r, "Give the rule a name", "Enter a ring time from 1 to 600 seconds")
	contains(t, add(url.Values{"name": {"Desk"}, "first_action": {"ring_phone"}, "first_target": {"201"}, "next_action": {""}}),
		"Extension 200 has no phone 201.")
	contains(t, add(url.Values{"name": {"Me"}, "first_action": {"forward_user"}, "first_target": {"200"}}),
		"A rule of 200 cannot forward to 200 itself.")
	contains(t, add(url.Values{"name": {"Out"}, "first_action": {"forward_external"}, "first_target": {"12ab"}}),
		"&#34;12ab&#34; is not a phone number")
	contains(t, add(url.Values{"name": {"Out"}, "first_action": {"forward_external"}, "first_target": {"12ab"}}), `value="Out"`)

	r = add(url.Values{"name": {"Lunch"}, "first_action": {"ring_my_phones"}, "first_seconds": {"20"}, "next_action": {"forward_user"}, "next_target": {"201"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/rules?done=added" {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	r = b.get("/me/rules?done=added")
	contains(t, r, "The rule is added.", "Lunch", "Ring my phones for 20 s", "Forward to extension 201", "applies now", "Rule 1, <strong>Lunch</strong>, applies.")
	add(url.Values{"name": {"Busy day"}, "first_action": {"voicemail"}, "next_action": {"voicemail"}}) // nothing follows voicemail
	h, _ := e.st.CallHandling("200")
	if len(h.Rules) != 2 || h.Rules[1].IfNoAnswer.Action != "" {
		t.Fatalf("stored rules: %+v", h.Rules)
	}
	if r := b.post("/me/rules/2/move", url.Values{"to": {"1"}}); r.code != http.StatusSeeOther {
		t.Fatalf("move: %d %s", r.code, r.body)
	}
	b.post("/me/rules/1/disable", nil)
	h, _ = e.st.CallHandling("200")
	if h.Rules[0].Name != "Busy day" || !h.Rules[0].Disabled {
		t.Fatalf("after move and disable: %+v", h.Rules)
	}
	contains(t, b.get("/me/rules"), "Rule 2, <strong>Lunch</strong>, applies.", `<span class="badge">off</span>`)
	b.post("/me/rules/1/delete", nil)
	if h, _ = e.st.CallHandling("200"); len(h.Rules) != 1 {
		t.Fatalf("after delete: %+v", h.Rules)
	}
	if r := b.post("/me/rules/9/delete", nil); r.code != http.StatusBadRequest || !strings.Contains(r.body, "There is no rule 9") {
		t.Fatalf("deleting a rule that is not there: %d", r.code)
	}

	b.post("/me/rules/dnd", url.Values{"on": {"1"}})
	contains(t, b.get("/me/rules"), "Do not disturb is on:", "Turn off do not disturb")
	b.post("/me/rules/dnd", url.Values{"on": {"0"}})
	contains(t, b.post("/me/rules/forward", url.Values{"target": {"x1"}}), "Forward target &#34;x1&#34;")
	b.post("/me/rules/forward", url.Values{"target": {"201"}})
	contains(t, b.get("/me/rules"), "All your calls are forwarded</strong> to 201 (Bob Jones).")
	b.post("/me/rules/forward", url.Values{"stop": {"1"}})
	if h, _ = e.st.CallHandling("200"); h.DND || h.ForwardTo != "" {
		t.Fatalf("DND and forward after switching off: %+v", h)
	}
	if h, _ := e.st.CallHandling("201"); len(h.Rules) != 0 {
		t.Fatalf("bob's rules changed: %+v", h)
	}
	// Text is shown as text.
	add(url.Values{"name": {`<b>x</b>`}, "first_action": {"voicemail"}})
	lacks(t, b.get("/me/rules"), "<b>x</b>")
}

func TestAnsweringRulesAPI(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.apiLogin("200")
	r := b.api("POST", "/api/me/rules", map[string]any{"name": "Lunch", "first": map[string]any{"action": "voicemail"}})
	res := decode[control.RuleResult](t, r)
	if r.code != http.StatusCreated || res.Rule.Name != "Lunch" || res.Handling.Active != 1 {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	r = b.api("POST", "/api/me/rules", map[string]any{"name": "", "first": map[string]any{"action": "ring_phone", "target": "299"}})
	if f := decode[apiError](t, r).Fields; r.code != 400 || f["name"] == "" {
		t.Fatalf("bad rule: %d %s", r.code, r.body)
	}
	r = b.api("PATCH", "/api/me/rules/1", map[string]any{"enabled": false})
	if res := decode[control.RuleResult](t, r); r.code != 200 || !res.Rule.Disabled || res.Handling.Active != 0 {
		t.Fatalf("disable: %d %s", r.code, r.body)
	}
	if r := b.api("PUT", "/api/me/dnd", map[string]bool{"on": true}); r.code != 200 || !decode[control.HandlingView](t, r).DND {
		t.Fatalf("dnd: %d %s", r.code, r.body)
	}
	if r := b.api("PUT", "/api/me/forward", map[string]string{"target": "abc"}); r.code != 400 {
		t.Fatalf("bad forward: %d %s", r.code, r.body)
	}
	if h := decode[control.HandlingView](t, b.api("GET", "/api/me/rules", nil)); len(h.Rules) != 1 || h.Override != "dnd" {
		t.Fatalf("rules: %+v", h)
	}
	if r := b.api("DELETE", "/api/me/rules/1", nil); r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
}
