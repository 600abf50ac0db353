package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/store"
)

func TestEmergencyAddress(t *testing.T) {
	e := newEnv(t)
	b := e.login("100")
	good := url.Values{"organization": {"Acme Dental"}, "street": {"1 Main St"}, "city": {"Springfield"}, "region": {"IL"},
		"postal_code": {"62701"}, "country": {"us"}, "notes": {"Back door"}}
	r := b.post("/admin/preferences/emergency", good)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?reauth=1" {
		t.Fatalf("without re-authentication: %d %q", r.code, r.hdr.Get("Location"))
	}
	if _, err := e.st.EmergencyAddress(); err == nil {
		t.Fatal("stored without re-authentication")
	}
	b.post("/admin/preferences/reauth", url.Values{"password": {e.pw["100"]}})
	contains(t, b.get("/admin/preferences"), `id="emergency-form"`, "Not set yet", "No authorized contacts yet.")

	for _, tc := range []struct {
		change url.Values
		want   []string
	}{
		{url.Values{"organization": {""}, "city": {" "}}, []string{"Enter the name of the organisation", "Enter the city."}},
		{url.Values{"country": {"USA"}}, []string{"two-letter code"}},
		{url.Values{"postal_code": {strings.Repeat("9", 21)}}, []string{"at most 20 characters"}},
		{url.Values{"street": {"1 Main\r\nSt"}}, []string{"cannot contain line breaks"}},
		{url.Values{"organization": {`<script>alert(1)</script>`}, "country": {"1"}}, []string{"&lt;script&gt;", "two-letter code"}},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		for k, v := range tc.change {
			form[k] = v
		}
		r := b.post("/admin/preferences/emergency", form)
		if r.code != http.StatusBadRequest {
			t.Errorf("%v: %d", tc.change, r.code)
		}
		contains(t, r, append(tc.want, "Some fields need attention.")...)
		lacks(t, r, "<script>alert(1)")
		if _, err := e.st.EmergencyAddress(); err == nil {
			t.Fatalf("%v: stored", tc.change)
		}
	}
	r = b.post("/admin/preferences/emergency", good)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?done=emergency#emergency" {
		t.Fatalf("save: %d %s", r.code, r.body)
	}
	if a, err := e.st.EmergencyAddress(); err != nil || a.Country != "US" || a.City != "Springfield" || a.Notes != "Back door" {
		t.Fatalf("stored: %+v %v", a, err)
	}
	contains(t, b.get("/admin/preferences?done=emergency"), "The emergency address is saved.", `value="Acme Dental"`, `value="US"`, "Back door</textarea>")

	api := e.apiLogin("100")
	if r := api.api("GET", "/api/emergency-address", nil); r.code != http.StatusForbidden {
		t.Fatalf("API without re-authentication: %d", r.code)
	}
	api.api("POST", "/api/reauth", map[string]string{"password": e.pw["100"]})
	if r := api.api("GET", "/api/emergency-address", nil); r.code != 200 || !strings.Contains(r.body, `"postal_code": "62701"`) {
		t.Fatalf("API get: %d %s", r.code, r.body)
	}
	r = api.api("PUT", "/api/emergency-address", map[string]string{"organization": "Acme", "street": "2 Elm St", "city": "Ottawa", "postal_code": "K1A 0B1", "country": "ca"})
	if r.code != 200 || !strings.Contains(r.body, `"country": "CA"`) {
		t.Fatalf("API put: %d %s", r.code, r.body)
	}
	if r := api.api("PUT", "/api/emergency-address", map[string]string{"organization": "Acme"}); r.code != 400 || decode[apiError](t, r).Fields["street"] == "" {
		t.Fatalf("API put incomplete: %d %s", r.code, r.body)
	}
	e.addUser("200", "Alice Smith", store.RoleUser)
	if r := e.apiLogin("200").api("GET", "/api/emergency-address", nil); r.code != http.StatusForbidden {
		t.Fatalf("user reading the emergency address: %d", r.code)
	}
}

func TestAuthorizedContacts(t *testing.T) {
	e := newEnv(t)
	b := e.login("100")
	if r := b.post("/admin/preferences/contacts", url.Values{"name": {"Ann"}, "phone": {"555 0100"}}); r.code != http.StatusSeeOther ||
		r.hdr.Get("Location") != "/admin/preferences?reauth=1" {
		t.Fatalf("without re-authentication: %d %q", r.code, r.hdr.Get("Location"))
	}
	b.post("/admin/preferences/reauth", url.Values{"password": {e.pw["100"]}})

	r := b.post("/admin/preferences/contacts", url.Values{"name": {""}, "phone": {"call me"}, "email": {"nope"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad contact: %d", r.code)
	}
	contains(t, r, "Enter the person&#39;s name.", "A phone number has digits", "This is not an email address", `value="call me"`)
	r = b.post("/admin/preferences/contacts", url.Values{"name": {"Ann <b>Owner</b>"}, "phone": {"+1 (555) 010-0100"}, "email": {"ann@example.com"}, "role": {"Owner"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?done=contact-added#authorized" {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	b.post("/admin/preferences/contacts", url.Values{"name": {"Bob"}, "phone": {"555-0101"}})
	list, _ := e.st.AuthorizedContacts()
	if len(list) != 2 || list[0].Email != "ann@example.com" {
		t.Fatalf("stored: %+v", list)
	}
	r = b.get("/admin/preferences?done=contact-added")
	contains(t, r, "The contact is added.", "Ann &lt;b&gt;Owner&lt;/b&gt;", `id="authorized-`+list[1].ID+`"`)
	lacks(t, r, "<b>Owner")
	contains(t, b.get("/admin/preferences?contact="+list[1].ID), `action="/admin/preferences/contacts/`+list[1].ID+`"`, "Edit Bob", `value="555-0101"`)

	r = b.post("/admin/preferences/contacts/"+list[1].ID, url.Values{"name": {"Bob"}, "phone": {""}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("edit with no phone: %d", r.code)
	}
	contains(t, r, "Enter a phone number", "Edit Bob")
	if r := b.post("/admin/preferences/contacts/"+list[1].ID, url.Values{"name": {"Bob Jones"}, "phone": {"555-0102"}, "role": {"Office manager"}}); r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.code, r.body)
	}
	if r := b.post("/admin/preferences/contacts/nope", url.Values{"name": {"X"}, "phone": {"1"}}); r.code != http.StatusNotFound {
		t.Fatalf("edit unknown: %d", r.code)
	}
	if r := b.post("/admin/preferences/contacts/"+list[0].ID+"/delete", nil); r.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.code)
	}
	if l, _ := e.st.AuthorizedContacts(); len(l) != 1 || l[0].Name != "Bob Jones" || l[0].Role != "Office manager" {
		t.Fatalf("after edit and remove: %+v", l)
	}

	api := e.apiLogin("100")
	if r := api.api("GET", "/api/authorized-contacts", nil); r.code != http.StatusForbidden {
		t.Fatalf("API without re-authentication: %d", r.code)
	}
	api.api("POST", "/api/reauth", map[string]string{"password": e.pw["100"]})
	r = api.api("POST", "/api/authorized-contacts", map[string]string{"name": "Cy", "phone": "555 0103", "id": "chosen"})
	c := decode[store.AuthorizedContact](t, r)
	if r.code != 200 || c.ID == "" || c.ID == "chosen" {
		t.Fatalf("API add: %d %s", r.code, r.body)
	}
	if r := api.api("PUT", "/api/authorized-contacts/"+c.ID, map[string]string{"name": "Cy", "phone": "x"}); r.code != 400 || decode[apiError](t, r).Fields["phone"] == "" {
		t.Fatalf("API bad edit: %d %s", r.code, r.body)
	}
	if r := api.api("PUT", "/api/authorized-contacts/"+c.ID, map[string]string{"name": "Cy Young", "phone": "555 0103"}); r.code != 200 {
		t.Fatalf("API edit: %d %s", r.code, r.body)
	}
	if r := api.api("DELETE", "/api/authorized-contacts/"+c.ID, nil); r.code != 200 {
		t.Fatalf("API remove: %d %s", r.code, r.body)
	}
	if r := api.api("DELETE", "/api/authorized-contacts/"+c.ID, nil); r.code != 404 {
		t.Fatalf("API remove twice: %d %s", r.code, r.body)
	}
	if r := api.api("GET", "/api/authorized-contacts", nil); r.code != 200 || !strings.Contains(r.body, "Bob Jones") || strings.Contains(r.body, "Cy Young") {
		t.Fatalf("API list: %d %s", r.code, r.body)
	}
	e.addUser("200", "Alice Smith", store.RoleUser)
	if r := e.apiLogin("200").api("GET", "/api/authorized-contacts", nil); r.code != http.StatusForbidden {
		t.Fatalf("user reading the contacts: %d", r.code)
	}
}
