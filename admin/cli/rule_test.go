package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

func TestParseDays(t *testing.T) {
	for in, want := range map[string][]int{
		"mon":              {1},
		"Monday":           {1},
		"tues":             {2},
		"mon-fri":          {1, 2, 3, 4, 5},
		"mon,wed,fri":      {1, 3, 5},
		"sat-sun":          {6, 0},
		"sun,sat":          {6, 0},
		"fri-mon":          {1, 5, 6, 0},
		"mon-mon":          {1},
		"weekdays":         {1, 2, 3, 4, 5},
		"weekends":         {6, 0},
		"daily":            {1, 2, 3, 4, 5, 6, 0},
		"mon-wed,tue-thu":  {1, 2, 3, 4},
		"WED,weekend,thur": {3, 4, 6, 0},
	} {
		got, err := parseDays(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "mo", "t", "s", "funday", "mon-", "-fri", "mon-fri-sat", "mon,,fri", "1-5"} {
		if got, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseWeekly(t *testing.T) {
	wr := func(days []int, start, end string) store.WeeklyRange {
		return store.WeeklyRange{Days: days, Start: start, End: end}
	}
	weekdays := []int{1, 2, 3, 4, 5}
	for in, want := range map[string][]store.WeeklyRange{
		"mon-fri 09:00-17:00":              {wr(weekdays, "09:00", "17:00")},
		"mon-fri 9:00-17:00":               {wr(weekdays, "09:00", "17:00")},
		"  mon - fri   09:00 - 17:00 ":     {wr(weekdays, "09:00", "17:00")},
		"mon–fri 09:00–17:00":              {wr(weekdays, "09:00", "17:00")},
		"mon, wed, fri 08:00-12:00":        {wr([]int{1, 3, 5}, "08:00", "12:00")},
		"sat-sun":                          {wr([]int{6, 0}, "00:00", "24:00")},
		"fri 22:00-06:00":                  {wr([]int{5}, "22:00", "06:00")},
		"every day 12:00-24:00":            {wr([]int{1, 2, 3, 4, 5, 6, 0}, "12:00", "24:00")},
		"weekdays 09:00-12:30,13:30-17:00": {wr(weekdays, "09:00", "12:30"), wr(weekdays, "13:30", "17:00")},
	} {
		got, err := parseWeekly(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseWeekly(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "09:00-17:00", "mon-fri 9-17", "mon-fri 09:00", "mon-fri 25:00-26:00", "mon 09:60-10:00",
		"mon 24:00-06:00", "mon 09:00-09:00", "mon-fri 24:01-24:30", "xyz 09:00-17:00", "mon 09:00-17:00,",
	} {
		if got, err := parseWeekly(in); err == nil {
			t.Errorf("parseWeekly(%q) = %+v, want an error", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string][]store.DateRange{
		"2026-12-24":                         {{From: "2026-12-24"}},
		"2026-12-24..2026-12-26":             {{From: "2026-12-24", To: "2026-12-26"}},
		"2026-12-24..2026-12-24":             {{From: "2026-12-24"}},
		"2026-12-31 12:00-24:00":             {{From: "2026-12-31", Start: "12:00", End: "24:00"}},
		" 2026-12-24..2026-12-26 9:00-12:00": {{From: "2026-12-24", To: "2026-12-26", Start: "09:00", End: "12:00"}},
		"2026-12-31 22:00-02:00":             {{From: "2026-12-31", Start: "22:00", End: "02:00"}},
		"2027-01-02 08:00-10:00, 14:00-16:00": {
			{From: "2027-01-02", Start: "08:00", End: "10:00"}, {From: "2027-01-02", Start: "14:00", End: "16:00"}},
	} {
		got, err := parseDate(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseDate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "24.12.2026", "2026-02-30", "2026-12-26..2026-12-24", "2026-12-24..", "2026-12-24..26",
		"2026-12-24 09:00", "2026-12-24 noon", "2026-12-24 09:00-25:00", "mon",
	} {
		if got, err := parseDate(in); err == nil {
			t.Errorf("parseDate(%q) = %+v, want an error", in, got)
		}
	}
}

// What formatFrame prints, the flags read back as the same frame.
func TestFormatFrameRoundTrip(t *testing.T) {
	weekly := []string{"mon-fri 09:00-12:30,13:30-17:00", "sat 10:00-12:00", "mon,wed,sat-sun", "fri-mon 22:00-06:00", "daily 12:00-13:00"}
	dates := []string{"2026-12-24..2026-12-26", "2026-12-31 12:00-24:00"}
	tf, err := buildTimeFrame("All", "", weekly, dates)
	if err != nil {
		t.Fatal(err)
	}
	text := formatFrame(tf)
	want := "mon-fri 09:00-12:30,13:30-17:00; sat 10:00-12:00; mon,wed,sat-sun; mon,fri-sun 22:00-06:00; " +
		"daily 12:00-13:00; 2026-12-24..2026-12-26; 2026-12-31 12:00-24:00"
	if text != want {
		t.Fatalf("formatFrame = %q\nwant          %q", text, want)
	}
	var w, d []string
	for _, part := range strings.Split(text, "; ") {
		if part[0] >= '0' && part[0] <= '9' {
			d = append(d, part)
		} else {
			w = append(w, part)
		}
	}
	back, err := buildTimeFrame("All", "", w, d)
	if err != nil || !reflect.DeepEqual(back, tf) {
		t.Fatalf("read back: %+v, %v\nwant %+v", back, err, tf)
	}
	if _, err := buildTimeFrame("None", "", nil, nil); ExitCode(err) != 2 {
		t.Fatalf("a frame without times: %v", err)
	}
}

func TestRuleAddFlags(t *testing.T) {
	ok := []ruleAddOptions{
		{spec: control.RuleSpec{Name: "a"}, first: "ring_my_phones"},
		{spec: control.RuleSpec{Name: "a", First: store.RuleStep{RingSeconds: 20, ShowCalled: true}}, first: "ring_all_phones", then: "voicemail"},
		{spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "200b"}}, first: "ring_phone", then: "forward_external", thenTarget: "+4930123456", thenRing: 30},
		{spec: control.RuleSpec{Name: "a"}, first: "ring_ip_phones", then: "forward_sip", thenTarget: "sip:help@example.com", thenShow: true},
		{spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "201"}}, first: "forward_user", then: "voicemail"},
		{spec: control.RuleSpec{Name: "a"}, first: "voicemail"},
		{spec: control.RuleSpec{Name: "a"}, first: "disconnect"},
		{spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "0761234567"}}, first: "forward_external"},
	}
	for i, o := range ok {
		if _, err := o.build(); err != nil {
			t.Errorf("ok %d (%s → %s): %v", i, o.first, o.then, err)
		}
	}
	bad := map[string]ruleAddOptions{
		"unknown first":         {spec: control.RuleSpec{Name: "a"}, first: "ring"},
		"unknown then":          {spec: control.RuleSpec{Name: "a"}, first: "ring_my_phones", then: "email"},
		"ring_phone no target":  {spec: control.RuleSpec{Name: "a"}, first: "ring_phone"},
		"voicemail with target": {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "200"}}, first: "voicemail"},
		"voicemail with ring":   {spec: control.RuleSpec{Name: "a", First: store.RuleStep{RingSeconds: 20}}, first: "voicemail"},
		"forward_user ring":     {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "201", RingSeconds: 20}}, first: "forward_user"},
		"disconnect show":       {spec: control.RuleSpec{Name: "a", First: store.RuleStep{ShowCalled: true}}, first: "disconnect"},
		"external letters":      {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "call-me"}}, first: "forward_external"},
		"external plus only":    {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "+"}}, first: "forward_external"},
		"sip no scheme":         {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "help@example.com"}}, first: "forward_sip"},
		"user not extension":    {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "bob"}}, first: "forward_user"},
		"phone not device":      {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "desk"}}, first: "ring_phone"},
		"service":               {spec: control.RuleSpec{Name: "a", First: store.RuleStep{Target: "500"}}, first: "forward_service"},
		"then after voicemail":  {spec: control.RuleSpec{Name: "a"}, first: "voicemail", then: "disconnect"},
		"then-target alone":     {spec: control.RuleSpec{Name: "a"}, first: "ring_my_phones", thenTarget: "201"},
		"then-ring alone":       {spec: control.RuleSpec{Name: "a"}, first: "ring_my_phones", thenRing: 10},
		"ring 0 < x":            {spec: control.RuleSpec{Name: "a", First: store.RuleStep{RingSeconds: -5}}, first: "ring_my_phones"},
		"ring too long":         {spec: control.RuleSpec{Name: "a", First: store.RuleStep{RingSeconds: 900}}, first: "ring_my_phones"},
		"name only digits":      {spec: control.RuleSpec{Name: "12"}, first: "voicemail"},
		"name empty":            {spec: control.RuleSpec{Name: "  "}, first: "voicemail"},
		"position negative":     {spec: control.RuleSpec{Name: "a", Position: -2}, first: "voicemail"},
	}
	for name, o := range bad {
		if _, err := o.build(); ExitCode(err) != 2 {
			t.Errorf("%s: err = %v, want a bad-input error", name, err)
		}
	}
}

// The CLI end to end on a data directory: rules, DND, forwarding, frames
// and the zone; exit codes for bad input and unknown users; and `rule list`
// showing the active rule follow the time (--at).
func TestRuleCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
		if code != want {
			t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout + stderr
	}
	// Before any data exists: bad input is refused before the store is opened.
	run(2, "rule", "add", "--ext", "200", "--name", "x", "--first", "ring")
	run(2, "timezone", "Mars/Olympus")
	run(2, "timeframe", "add", "--name", "x", "--weekly", "someday")
	run(2, "rule", "list", "--ext", "200") // no data in dir

	run(0, "user", "add", "--ext", "200", "--name", "Alice Smith")
	run(0, "user", "add", "--ext", "201", "--name", "Bob Jones")
	run(0, "device", "add", "--ext", "200")
	if out := run(0, "timezone"); !strings.Contains(out, "not set") {
		t.Fatalf("timezone unset: %s", out)
	}
	if out := run(0, "timezone", "Europe/Berlin"); !strings.Contains(out, "time zone set to Europe/Berlin") {
		t.Fatalf("timezone: %s", out)
	}
	run(0, "timeframe", "add", "--name", "Office hours", "--weekly", "mon-fri 09:00-17:00")
	run(0, "timeframe", "add", "--name", "Holidays", "--date", "2026-12-24..2026-12-26")
	run(4, "timeframe", "add", "--name", "holidays", "--date", "2027-01-01")
	run(3, "timeframe", "add", "--name", "Gym", "--owner", "299", "--weekly", "tue 18:00-20:00")

	if out := run(0, "rule", "add", "--ext", "200", "--name", "office", "--time-frame", "Office hours",
		"--first", "ring_my_phones", "--first-ring", "20", "--then", "voicemail"); !strings.Contains(out, `added rule 1 "office" for 200`) {
		t.Fatalf("rule add: %s", out)
	}
	run(0, "rule", "add", "--ext", "200", "--name", "otherwise", "--first", "ring_phone", "--first-target", "200b",
		"--then", "forward_user", "--then-target", "201")
	run(0, "rule", "add", "--ext", "200", "--name", "holidays", "--time-frame", "holidays", "--position", "1", "--first", "voicemail")

	// Bad input: exit 2 and nothing written; unknown user: exit 3.
	// At a fixed time: the listing says when it was taken.
	before := run(0, "rule", "list", "--ext", "200", "--json", "--at", "2026-11-24 10:00")
	for _, args := range [][]string{
		{"rule", "add", "--ext", "200", "--name", "x", "--first", "ring_phone", "--first-target", "201"},
		{"rule", "add", "--ext", "200", "--name", "x", "--first", "voicemail", "--first-ring", "30"},
		{"rule", "add", "--ext", "200", "--name", "x", "--first", "forward_user", "--first-target", "299"},
		{"rule", "add", "--ext", "200", "--name", "x", "--time-frame", "weekends", "--first", "voicemail"},
		{"rule", "add", "--ext", "200", "--name", "x", "--position", "9", "--first", "voicemail"},
		{"rule", "add", "--ext", "200", "--name", "x", "--first", "ring_my_phones", "--then-target", "201"},
		{"rule", "add", "--ext", "200", "--name", "x", "--first", "forward_service", "--first-target", "500"},
		{"rule", "add", "--ext", "200", "--name", "x"},
		{"rule", "remove", "--ext", "200", "7"},
		{"rule", "remove", "--ext", "200"},
		{"rule", "disable", "--ext", "200", "nope"},
		{"rule", "move", "--ext", "200", "1", "--to", "0"},
		{"rule", "move", "--ext", "200", "1", "--to", "4"},
		{"rule", "list", "--ext", "200", "--at", "soon"},
		{"dnd", "--ext", "200", "maybe"},
		{"forward", "--ext", "200", "bob"},
		{"forward", "--ext", "200", "200"},
	} {
		if out := run(2, args...); !strings.HasPrefix(out, "switchboard: ") {
			t.Fatalf("%q: %s", args, out)
		}
	}
	for _, args := range [][]string{
		{"rule", "list", "--ext", "299"},
		{"rule", "add", "--ext", "299", "--name", "x", "--first", "voicemail"},
		{"rule", "remove", "--ext", "299", "1"},
		{"rule", "enable", "--ext", "299", "1"},
		{"rule", "move", "--ext", "299", "1", "--to", "1"},
		{"dnd", "--ext", "299", "on"},
		{"forward", "--ext", "299", "201"},
		{"timeframe", "list", "--owner", "299"},
		{"timeframe", "remove", "weekends"},
	} {
		run(3, args...)
	}
	run(4, "rule", "add", "--ext", "200", "--name", "Office", "--first", "voicemail")
	if after := run(0, "rule", "list", "--ext", "200", "--json", "--at", "2026-11-24 10:00"); after != before {
		t.Fatalf("refused commands changed the rules:\n%s\n%s", before, after)
	}

	// The active rule follows the time.
	for at, want := range map[string][]string{
		"2026-11-24 10:00": {"2  office    Office hours  ring my phones 20s  voicemail                ← active", "ring 200,200b for 20s → voicemail 200"},
		"2026-11-24 18:00": {"3  otherwise  always        ring phone 200b 12s  forward to user 201  ← active", "ring 200b for 12s → ring 201 for 30s"},
		"2026-12-24 10:00": {"1  holidays   Holidays      voicemail            -                    ← active", "voicemail 200 → not available"},
	} {
		out := run(0, "rule", "list", "--ext", "200", "--at", at)
		for _, w := range want {
			if !strings.Contains(squeeze(out), squeeze(w)) {
				t.Fatalf("rule list at %s: want %q in\n%s", at, w, out)
			}
		}
		if strings.Count(out, "← active") != 1 {
			t.Fatalf("rule list at %s: not exactly one active rule\n%s", at, out)
		}
	}

	// DND and forwarding set the rules aside.
	if out := run(0, "dnd", "--ext", "200", "on"); !strings.Contains(out, "now: voicemail 200 → not available") {
		t.Fatalf("dnd on: %s", out)
	}
	if out := run(0, "rule", "list", "--ext", "200", "--at", "2026-11-24 10:00"); !strings.Contains(out, "do not disturb is on") {
		t.Fatalf("rule list with DND: %s", out)
	}
	if out := run(0, "dnd", "--ext", "200"); !strings.Contains(out, "do not disturb is on for 200") {
		t.Fatalf("dnd status: %s", out)
	}
	run(0, "dnd", "--ext", "200", "off")
	if out := run(0, "forward", "--ext", "200", "201"); !strings.Contains(out, "200 forwards every call to 201 (Bob Jones)") {
		t.Fatalf("forward: %s", out)
	}
	if out := run(0, "forward", "--ext", "200", "+4930123456"); !strings.Contains(out, "now: call +4930123456 for 40s") {
		t.Fatalf("forward outside: %s", out)
	}
	if out := run(0, "forward", "--ext", "200", "off"); !strings.Contains(out, "forwarding is off for 200") {
		t.Fatalf("forward off: %s", out)
	}

	// Change, move and remove rules; a frame in use cannot go.
	if out := run(0, "rule", "disable", "--ext", "200", "office"); !strings.Contains(out, `disabled rule 2 "office" of 200`) {
		t.Fatalf("disable: %s", out)
	}
	run(0, "rule", "enable", "--ext", "200", "2")
	if out := run(0, "rule", "move", "--ext", "200", "holidays", "--to", "3"); !strings.Contains(out, `moved rule "holidays" of 200 to position 3`) {
		t.Fatalf("move: %s", out)
	}
	if out := run(4, "timeframe", "remove", "Holidays"); !strings.Contains(out, `rule "holidays" of 200`) {
		t.Fatalf("remove frame in use: %s", out)
	}
	if out := run(0, "timeframe", "list"); !strings.Contains(squeeze(out), "holidays Holidays organisation 2026-12-24..2026-12-26 200: holidays") {
		t.Fatalf("timeframe list: %s", out)
	}
	run(0, "rule", "remove", "--ext", "200", "3")
	run(0, "timeframe", "remove", "Holidays")
	if out := run(0, "rule", "list", "--ext", "200"); strings.Contains(out, "holidays") {
		t.Fatalf("after removing: %s", out)
	}
}

// squeeze collapses runs of spaces, so tests do not depend on column widths.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// noRegistrations stands in for a running switch's registrar.
type noRegistrations struct{}

func (noRegistrations) Lookup(string) []store.Binding   { return nil }
func (noRegistrations) All() map[string][]store.Binding { return nil }
func (noRegistrations) Remove(string)                   {}

// With a server running, the same commands go through its control socket.
func TestRuleCommandsThroughServer(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := control.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		control.Serve(ctx, l, &control.Local{Store: st, Reg: noRegistrations{}}, slog.New(slog.DiscardHandler))
	})
	defer wg.Wait()
	defer cancel()
	run := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
		if code != want {
			t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout + stderr
	}
	run(0, "user", "add", "--ext", "200", "--name", "Alice Smith")
	if out := run(0, "timezone", "UTC"); !strings.Contains(out, "time zone set to UTC") {
		t.Fatalf("timezone on a running server: %s", out)
	}
	run(0, "timeframe", "add", "--name", "Nights", "--weekly", "daily 20:00-08:00")
	run(0, "rule", "add", "--ext", "200", "--name", "nights", "--time-frame", "nights", "--first", "voicemail")
	run(2, "rule", "add", "--ext", "200", "--name", "bad", "--first", "ring_phone", "--first-target", "200b")
	run(3, "rule", "add", "--ext", "299", "--name", "x", "--first", "voicemail")
	if out := run(0, "rule", "list", "--ext", "200", "--at", "2026-11-24 23:00"); !strings.Contains(out, "voicemail 200 → not available") {
		t.Fatalf("at night: %s", out)
	}
	if out := run(0, "rule", "list", "--ext", "200", "--at", "2026-11-24 12:00"); !strings.Contains(out, "No rule matches at this time") ||
		!strings.Contains(out, "ring 200 for 30s → voicemail 200") {
		t.Fatalf("at noon: %s", out)
	}
	if h, _ := st.CallHandling("200"); len(h.Rules) != 1 {
		t.Fatalf("stored rules: %+v", h.Rules)
	}
}
