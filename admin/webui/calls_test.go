package webui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/store"
)

// seedCall stores a call that started ago before now.
func (e *env) seedCall(id, from, to, answeredBy string, ago time.Duration, disp store.Disposition, cause string) store.CallRecord {
	e.t.Helper()
	start := time.Now().Add(-ago).Truncate(time.Second)
	c := store.CallRecord{ID: id, Direction: store.Internal, Caller: from, CallerDevice: from, Callee: to, AnsweredBy: answeredBy,
		Start: start, End: start.Add(95 * time.Second), Disposition: disp, Cause: cause}
	if disp == store.Answered {
		c.Answer = start.Add(5 * time.Second)
	}
	if err := e.st.SaveCall(c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestAdminCallHistory(t *testing.T) {
	e := newEnv(t)
	e.seedCall("c1", "200", "201", "201b", time.Hour, store.Answered, "caller bye")
	e.seedCall("c2", "201", "202", "", 2*time.Hour, store.Missed, "no answer")
	e.seedCall("c3", "202", "200", "", 3*time.Hour, store.Busy, "486 busy")
	e.seedCall("old", "200", "202", "202", 10*24*time.Hour, store.Answered, "callee bye")
	b := e.login("100")

	r := b.get("/admin/calls")
	contains(t, r, "Calls 1–3 of 3", "201b", "1:30", "no answer", "486 busy", `href="/admin/calls.csv?`)
	lacks(t, r, "callee bye") // 10 days ago: outside the default 7 days

	r = b.get("/admin/calls?ext=201")
	contains(t, r, "Calls 1–2 of 2", "caller bye", "no answer")
	lacks(t, r, "486 busy")
	r = b.get("/admin/calls?disposition=busy")
	contains(t, r, "Calls 1–1 of 1", "486 busy")
	from := time.Now().AddDate(0, 0, -30).Format("2006-01-02")
	contains(t, b.get("/admin/calls?from="+from), "Calls 1–4 of 4", "callee bye")

	r = b.get("/admin/calls?from=yesterday&to=2020-01-01&ext=abc&disposition=lost")
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad filters: %d", r.code)
	}
	contains(t, r, "Enter a date such as", "Enter an extension such as 200", "Choose a result from the list.")
	r = b.get("/admin/calls?from=2026-02-01&to=2026-01-01")
	contains(t, r, "The end date is before the start date.")
	contains(t, b.get("/admin/calls?ext=299"), "No calls in this period.", "Try another extension or result")
}

func TestCallHistoryPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 120 {
		e.seedCall(fmt.Sprintf("p%03d", i), "200", "201", "201", time.Duration(i+1)*time.Minute, store.Answered, fmt.Sprintf("call number %03d", i))
	}
	b := e.login("100")
	r := b.get("/admin/calls")
	contains(t, r, "Calls 1–50 of 120", "call number 000", "call number 049", `rel="next"`)
	lacks(t, r, "call number 050", `rel="prev"`)
	r = b.get("/admin/calls?page=3")
	contains(t, r, "Calls 101–120 of 120", "call number 119", `rel="prev"`)
	lacks(t, r, `rel="next"`)
	if r := b.get("/admin/calls?page=0"); r.code != http.StatusBadRequest {
		t.Fatalf("page 0: %d", r.code)
	}
	p := decode[callsJSON](t, e.apiLogin("100").api("GET", "/api/calls?page=2", nil))
	if p.Total != 120 || len(p.Calls) != 50 || p.Calls[0].Cause != "call number 050" || p.Calls[0].DurationS != 90 {
		t.Fatalf("API page 2: total %d, %d calls, first %+v", p.Total, len(p.Calls), p.Calls[0])
	}
}

func TestCallsCSV(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	a := e.seedCall("c1", "200", "201", "201b", time.Hour, store.Answered, `transfer, then "bye"`)
	e.seedCall("c2", "+4930123456", "=HYPERLINK(\"http://x\")", "", 2*time.Hour, store.Failed, "line one\nline two")
	e.seedCall("c3", "202", "203", "", 3*time.Hour, store.Missed, "@SUM(A1)")
	b := e.login("100")
	r := b.get("/admin/calls.csv")
	if r.code != 200 || r.hdr.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(r.hdr.Get("Content-Disposition"), `attachment; filename="calls-`) {
		t.Fatalf("CSV: %d %q %q", r.code, r.hdr.Get("Content-Type"), r.hdr.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(r.body, "start,answer,end,duration_s,from,to,direction,disposition,answered_by,cause\n") {
		t.Fatalf("header: %q", r.body)
	}
	if !strings.Contains(r.body, `,"transfer, then ""bye"""`) || !strings.Contains(r.body, "\"line one\nline two\"") {
		t.Errorf("quoting:\n%s", r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV rows %d, %v:\n%s", len(rows), err, r.body)
	}
	want := []string{a.Start.In(time.Local).Format(time.RFC3339), a.Answer.In(time.Local).Format(time.RFC3339),
		a.End.In(time.Local).Format(time.RFC3339), "90", "200", "201", "internal", "answered", "201b", `transfer, then "bye"`}
	if strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Errorf("row 1:\n got %q\nwant %q", rows[1], want)
	}
	if rows[2][4] != "+4930123456" || rows[2][5] != `'=HYPERLINK("http://x")` || rows[2][1] != "" || rows[2][3] != "0" {
		t.Errorf("row 2 (number kept, formula defused, no answer): %q", rows[2])
	}
	if rows[3][9] != "'@SUM(A1)" {
		t.Errorf("row 3 cause %q", rows[3][9])
	}
	// Filters apply to the export; a user exports only their own calls.
	rows, _ = csv.NewReader(strings.NewReader(b.get("/admin/calls.csv?disposition=missed").body)).ReadAll()
	if len(rows) != 2 || rows[1][4] != "202" {
		t.Errorf("filtered export: %q", rows)
	}
	u := e.apiLogin("200")
	rows, _ = csv.NewReader(strings.NewReader(u.api("GET", "/api/me/calls.csv", nil).body)).ReadAll()
	if len(rows) != 2 || rows[1][4] != "200" {
		t.Errorf("own export: %q", rows)
	}
}

// A user never sees another user's calls or phones.
func TestUserCannotReadOthersData(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	e.seedCall("ab", "200", "201", "201", time.Hour, store.Answered, "caller bye")
	e.seedCall("bc", "201", "202", "202", time.Hour, store.Answered, "secret of bob")
	alice := e.apiLogin("200")
	for _, path := range []string{"/api/me/calls?ext=201", "/api/me/calls.csv?ext=201", "/api/calls", "/api/calls.csv?ext=201",
		"/api/users/201", "/api/users/201/devices", "/api/users"} {
		if r := alice.api("GET", path, nil); r.code != http.StatusForbidden && r.code != http.StatusNotFound {
			t.Errorf("alice GET %s: %d %s", path, r.code, r.body)
		} else if strings.Contains(r.body, "secret of bob") {
			t.Errorf("alice GET %s leaks bob's call", path)
		}
	}
	for _, req := range [][2]string{{"PATCH", "/api/users/201"}, {"DELETE", "/api/users/201"}, {"POST", "/api/users/201/password"},
		{"POST", "/api/users/201/devices"}, {"DELETE", "/api/devices/201"}, {"POST", "/api/devices/201/sip-password"}} {
		var body any
		if req[0] == "PATCH" {
			body = map[string]string{"name": "Hacked"}
		}
		if r := alice.api(req[0], req[1], body); r.code != http.StatusForbidden {
			t.Errorf("alice %s %s: %d %s", req[0], req[1], r.code, r.body)
		}
	}
	if u, _ := e.st.User("201"); u.Name() != "Bob Jones" {
		t.Fatal("bob changed")
	}
	own := decode[callsJSON](t, alice.api("GET", "/api/me/calls", nil))
	if own.Total != 1 || own.Calls[0].ID != "ab" {
		t.Fatalf("alice's own calls: %+v", own)
	}
	page := e.login("200")
	for _, path := range []string{"/admin/calls", "/admin/calls.csv", "/admin/users/201"} {
		if r := page.get(path); r.code != http.StatusForbidden {
			t.Errorf("alice page %s: %d", path, r.code)
		}
	}
}

// eachCall reads in chunks; calls that share a start time across a chunk
// boundary are each seen once.
func TestEachCallChunks(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	n := 0
	for i := range callChunk + 40 {
		start := base.Add(-time.Duration(i) * time.Second)
		if i >= callChunk-10 && i < callChunk+10 {
			start = base.Add(-time.Duration(callChunk-10) * time.Second) // 20 calls at one instant, across the boundary
		}
		e.st.SaveCall(store.CallRecord{ID: fmt.Sprintf("k%04d", i), Caller: "200", Callee: "201", Start: start, End: start, Disposition: store.Missed})
		n++
	}
	seen := map[string]int{}
	err := eachCall(e.st, base.Add(-24*time.Hour), time.Now(), func(c store.CallRecord) bool { seen[c.ID]++; return true })
	if err != nil || len(seen) != n {
		t.Fatalf("saw %d distinct of %d: %v", len(seen), n, err)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s seen %d times", id, k)
		}
	}
}

// A call transferred to a user is among that user's calls.
func TestInvolvesTransferTarget(t *testing.T) {
	c := store.CallRecord{Caller: "200", CallerDevice: "200", Callee: "201", AnsweredBy: "201",
		Transfers: []store.Transfer{{By: "201", To: "202", AnsweredBy: "202b", Result: store.Answered}}}
	for ext, want := range map[string]bool{"200": true, "201": true, "202": true, "203": false} {
		if got := involves(c, ext); got != want {
			t.Errorf("involves(%s) = %v, want %v", ext, got, want)
		}
	}
}
