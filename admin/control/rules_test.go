package control_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

// rulesOffice adds 200 (phones 200, 200b) and 201, sets the office in
// Berlin and adds two organisation frames.
func rulesOffice(t *testing.T, ops control.Ops) {
	t.Helper()
	c := ctx(t)
	for _, spec := range []control.UserSpec{{Ext: "200", Name: "Alice Smith"}, {Ext: "201", Name: "Bob Jones"}} {
		if _, err := ops.AddUser(c, spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ops.AddDevice(c, "200", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.SetTimeZone(c, "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	for _, tf := range []store.TimeFrame{
		{Name: "Office hours", Weekly: []store.WeeklyRange{{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}}},
		{Name: "Holidays", Dates: []store.DateRange{{From: "2026-12-24", To: "2026-12-26"}}},
	} {
		if _, err := ops.AddTimeFrame(c, tf); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTimeZone(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		v, err := ops.TimeZone(c)
		if err != nil || v.Zone != "" || v.Effective != "Local" {
			t.Fatalf("unset zone: %+v, %v", v, err)
		}
		for _, bad := range []string{"", "Local", "Mars/Olympus", " Europe/Berlin", "../../etc/passwd"} {
			_, err := ops.SetTimeZone(c, bad)
			wantStatus(t, err, http.StatusBadRequest)
		}
		v, err = ops.SetTimeZone(c, "America/New_York")
		if err != nil || v.Zone != "America/New_York" || v.Effective != "America/New_York" {
			t.Fatalf("set zone: %+v, %v", v, err)
		}
		var stored string
		if err := st.Setting(store.TimeZoneKey, &stored); err != nil || stored != "America/New_York" {
			t.Fatalf("stored zone %q, %v", stored, err)
		}
	})
}

func TestTimeFrames(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		rulesOffice(t, ops)
		weekly := []store.WeeklyRange{{Days: []int{2, 4}, Start: "18:00", End: "20:00"}}
		gym, err := ops.AddTimeFrame(c, store.TimeFrame{Name: " Gym ", Owner: "200", Weekly: weekly})
		if err != nil || gym.ID != "200-gym" || gym.Name != "Gym" {
			t.Fatalf("add own frame: %+v, %v", gym, err)
		}
		// Another user may have their own "Gym"; nobody may shadow the organisation's names.
		if tf, err := ops.AddTimeFrame(c, store.TimeFrame{Name: "gym", Owner: "201", Weekly: weekly}); err != nil || tf.ID != "201-gym" {
			t.Fatalf("201's gym: %+v, %v", tf, err)
		}
		// Ids stay unique when names make the same one.
		if tf, err := ops.AddTimeFrame(c, store.TimeFrame{Name: "Office-hours!", Weekly: weekly}); err != nil || tf.ID != "office-hours-2" {
			t.Fatalf("second office-hours id: %+v, %v", tf, err)
		}
		for name, tc := range map[string]struct {
			tf     store.TimeFrame
			status int
		}{
			"no name":        {store.TimeFrame{Weekly: weekly}, http.StatusBadRequest},
			"digits only":    {store.TimeFrame{Name: "2026", Weekly: weekly}, http.StatusBadRequest},
			"no times":       {store.TimeFrame{Name: "Empty"}, http.StatusBadRequest},
			"bad time":       {store.TimeFrame{Name: "Late", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "25:00", End: "26:00"}}}, http.StatusBadRequest},
			"bad date":       {store.TimeFrame{Name: "Someday", Dates: []store.DateRange{{From: "2026-02-30"}}}, http.StatusBadRequest},
			"dates reversed": {store.TimeFrame{Name: "Back", Dates: []store.DateRange{{From: "2026-12-26", To: "2026-12-24"}}}, http.StatusBadRequest},
			"bad id":         {store.TimeFrame{ID: "Has Space", Name: "Spaced", Weekly: weekly}, http.StatusBadRequest},
			"taken id":       {store.TimeFrame{ID: "holidays", Name: "Other", Weekly: weekly}, http.StatusConflict},
			"taken name":     {store.TimeFrame{Name: "HOLIDAYS", Weekly: weekly}, http.StatusConflict},
			"org over own":   {store.TimeFrame{Name: "Gym", Weekly: weekly}, http.StatusConflict},
			"own over org":   {store.TimeFrame{Name: "Office hours", Owner: "201", Weekly: weekly}, http.StatusConflict},
			"unknown owner":  {store.TimeFrame{Name: "Theirs", Owner: "299", Weekly: weekly}, http.StatusNotFound},
		} {
			_, err := ops.AddTimeFrame(c, tc.tf)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			wantStatus(t, err, tc.status)
		}
		all, err := ops.ListTimeFrames(c, "")
		if err != nil || len(all) != 5 {
			t.Fatalf("all frames: %+v, %v", all, err)
		}
		mine, err := ops.ListTimeFrames(c, "200")
		var names []string
		for _, tf := range mine {
			names = append(names, tf.Name)
		}
		if err != nil || !reflect.DeepEqual(names, []string{"Gym", "Holidays", "Office hours", "Office-hours!"}) {
			t.Fatalf("200's frames: %q, %v", names, err)
		}
		_, err = ops.ListTimeFrames(c, "299")
		wantStatus(t, err, http.StatusNotFound)

		// A frame in use cannot go; the error names the rule.
		if _, err := ops.AddRule(c, "200", control.RuleSpec{Name: "closed", TimeFrame: "Holidays",
			First: store.RuleStep{Action: store.ActVoicemail}}); err != nil {
			t.Fatal(err)
		}
		_, err = ops.RemoveTimeFrame(c, "holidays")
		wantStatus(t, err, http.StatusConflict)
		if !strings.Contains(err.Error(), `rule "closed" of 200`) {
			t.Fatalf("in-use error does not name the rule: %v", err)
		}
		list, _ := ops.ListTimeFrames(c, "200")
		for _, tf := range list {
			if tf.ID == "holidays" && !reflect.DeepEqual(tf.UsedBy, []control.RuleUse{{Ext: "200", Rule: "closed"}}) {
				t.Fatalf("holidays used by %+v", tf.UsedBy)
			}
		}
		// Two frames named "gym": the id decides.
		_, err = ops.RemoveTimeFrame(c, "Gym")
		wantStatus(t, err, http.StatusBadRequest)
		if tf, err := ops.RemoveTimeFrame(c, "201-gym"); err != nil || tf.Owner != "201" {
			t.Fatalf("remove by id: %+v, %v", tf, err)
		}
		if tf, err := ops.RemoveTimeFrame(c, "GYM"); err != nil || tf.ID != "200-gym" {
			t.Fatalf("remove by name: %+v, %v", tf, err)
		}
		_, err = ops.RemoveTimeFrame(c, "gym")
		wantStatus(t, err, http.StatusNotFound)
		if _, err := st.TimeFrame("holidays"); err != nil {
			t.Fatal("the refused removal removed the frame")
		}
	})
}

func TestUpdateTimeFrame(t *testing.T) {
	st := openStore(t, t.TempDir())
	ops := &control.Local{Store: st}
	c := ctx(t)
	rulesOffice(t, ops)
	weekly := []store.WeeklyRange{{Days: []int{2, 4}, Start: "18:00", End: "20:00"}}
	gym, err := ops.AddTimeFrame(c, store.TimeFrame{Name: "Gym", Owner: "200", Weekly: weekly})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.AddRule(c, "200", control.RuleSpec{Name: "Away", TimeFrame: gym.ID, First: store.RuleStep{Action: store.ActVoicemail}}); err != nil {
		t.Fatal(err)
	}
	// New name and times; the owner stays whatever the caller says.
	v, err := ops.UpdateTimeFrame(c, store.TimeFrame{ID: gym.ID, Name: " Gym and pool ", Owner: "201",
		Dates: []store.DateRange{{From: "2026-12-24"}}})
	if err != nil || v.Name != "Gym and pool" || v.Owner != "200" || len(v.Weekly) != 0 ||
		!reflect.DeepEqual(v.UsedBy, []control.RuleUse{{Ext: "200", Rule: "Away"}}) {
		t.Fatalf("update: %+v, %v", v, err)
	}
	if stored, _ := st.TimeFrame(gym.ID); stored.Name != "Gym and pool" || stored.Owner != "200" {
		t.Fatalf("stored: %+v", stored)
	}
	// Keeping its own name is fine; taking another's is not; bad times are refused.
	if _, err := ops.UpdateTimeFrame(c, store.TimeFrame{ID: gym.ID, Name: "GYM AND POOL", Weekly: weekly}); err != nil {
		t.Fatalf("same name, other case: %v", err)
	}
	_, err = ops.UpdateTimeFrame(c, store.TimeFrame{ID: gym.ID, Name: "office hours", Weekly: weekly})
	wantStatus(t, err, http.StatusConflict)
	_, err = ops.UpdateTimeFrame(c, store.TimeFrame{ID: gym.ID, Name: "Gym"})
	wantStatus(t, err, http.StatusBadRequest)
	_, err = ops.UpdateTimeFrame(c, store.TimeFrame{ID: "nope", Name: "Gym", Weekly: weekly})
	wantStatus(t, err, http.StatusNotFound)
}

func TestRules(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		rulesOffice(t, ops)
		if _, err := ops.AddTimeFrame(c, store.TimeFrame{Name: "Bob's lunch", Owner: "201",
			Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "12:00", End: "13:00"}}}); err != nil {
			t.Fatal(err)
		}
		ring := func(a store.Action, target string, secs int) store.RuleStep {
			return store.RuleStep{Action: a, Target: target, RingSeconds: secs}
		}
		office, err := ops.AddRule(c, "200", control.RuleSpec{Name: "office", TimeFrame: "office HOURS",
			First: ring(store.ActRingMyPhones, "", 20), IfNoAnswer: ring(store.ActVoicemail, "", 0)})
		if err != nil || office.Rule.Number != 1 || office.Rule.TimeFrame != "office-hours" || office.Rule.TimeFrameName != "Office hours" {
			t.Fatalf("add office rule: %+v, %v", office.Rule, err)
		}
		if _, err := ops.AddRule(c, "200", control.RuleSpec{Name: "lunch / break", First: ring(store.ActRingPhone, "200b", 0),
			IfNoAnswer: ring(store.ActForwardUser, "201", 0)}); err != nil {
			t.Fatal(err)
		}
		res, err := ops.AddRule(c, "200", control.RuleSpec{Name: "holidays", TimeFrame: "holidays", Position: 1,
			First: ring(store.ActForwardNumber, "+4930123456", 0), IfNoAnswer: ring(store.ActVoicemail, "", 0)})
		if err != nil || res.Rule.Number != 1 || len(res.Handling.Rules) != 3 || res.Handling.Rules[1].Name != "office" {
			t.Fatalf("add at position 1: %+v, %v", res, err)
		}

		before, _ := st.CallHandling("200")
		for name, tc := range map[string]struct {
			ext    string
			spec   control.RuleSpec
			status int
		}{
			"unknown user":        {"299", control.RuleSpec{Name: "x", First: ring(store.ActVoicemail, "", 0)}, http.StatusNotFound},
			"no name":             {"200", control.RuleSpec{First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
			"number as name":      {"200", control.RuleSpec{Name: "2", First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
			"same name":           {"200", control.RuleSpec{Name: "Office", First: ring(store.ActVoicemail, "", 0)}, http.StatusConflict},
			"no first":            {"200", control.RuleSpec{Name: "x"}, http.StatusBadRequest},
			"unknown action":      {"200", control.RuleSpec{Name: "x", First: ring("ring_everyone", "", 0)}, http.StatusBadRequest},
			"missing target":      {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingPhone, "", 0)}, http.StatusBadRequest},
			"target not needed":   {"200", control.RuleSpec{Name: "x", First: ring(store.ActVoicemail, "201", 0)}, http.StatusBadRequest},
			"another's phone":     {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingPhone, "201", 0)}, http.StatusBadRequest},
			"no such phone":       {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingPhone, "200c", 0)}, http.StatusBadRequest},
			"not a phone":         {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingPhone, "desk", 0)}, http.StatusBadRequest},
			"no such user":        {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardUser, "299", 0)}, http.StatusBadRequest},
			"forward to self":     {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardUser, "200", 0)}, http.StatusBadRequest},
			"number with letters": {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardNumber, "0761-CALL", 0)}, http.StatusBadRequest},
			"sip without sip:":    {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, "help@example.com", 0)}, http.StatusBadRequest},
			"sip with >":          {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, "sip:a>b@example.com", 0)}, http.StatusBadRequest},
			"sip with a quote":    {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, `sip:a"b@example.com`, 0)}, http.StatusBadRequest},
			"sip with headers":    {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, "sip:help@example.com?Subject=x", 0)}, http.StatusBadRequest},
			"sip param with >":    {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, "sip:help@example.com;x=a>b", 0)}, http.StatusBadRequest},
			"sip with NUL":        {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardSIP, "sip:a\x00b@example.com", 0)}, http.StatusBadRequest},
			"service":             {"200", control.RuleSpec{Name: "x", First: ring(store.ActForwardService, "500", 0)}, http.StatusBadRequest},
			"ring on voicemail":   {"200", control.RuleSpec{Name: "x", First: ring(store.ActVoicemail, "", 30)}, http.StatusBadRequest},
			"ring too long":       {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingMyPhones, "", 601)}, http.StatusBadRequest},
			"negative ring":       {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingMyPhones, "", -1)}, http.StatusBadRequest},
			"after voicemail":     {"200", control.RuleSpec{Name: "x", First: ring(store.ActVoicemail, "", 0), IfNoAnswer: ring(store.ActDisconnect, "", 0)}, http.StatusBadRequest},
			"then target only":    {"200", control.RuleSpec{Name: "x", First: ring(store.ActRingMyPhones, "", 0), IfNoAnswer: store.RuleStep{Target: "201"}}, http.StatusBadRequest},
			"unknown frame":       {"200", control.RuleSpec{Name: "x", TimeFrame: "weekends", First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
			"another's frame":     {"200", control.RuleSpec{Name: "x", TimeFrame: "Bob's lunch", First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
			"position too far":    {"200", control.RuleSpec{Name: "x", Position: 5, First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
			"negative position":   {"200", control.RuleSpec{Name: "x", Position: -1, First: ring(store.ActVoicemail, "", 0)}, http.StatusBadRequest},
		} {
			_, err := ops.AddRule(c, tc.ext, tc.spec)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			wantStatus(t, err, tc.status)
			if after, _ := st.CallHandling("200"); !reflect.DeepEqual(after, before) {
				t.Fatalf("%s: a refused rule changed the rules: %+v", name, after)
			}
		}

		// 1 holidays, 2 office, 3 lunch / break. Which one is active depends on the time.
		for at, want := range map[string]struct {
			active int
			plan   string
		}{
			"2026-11-24 10:00": {2, "ring 200,200b for 20s → voicemail 200 → not available"},
			"2026-11-24 16:59": {2, "ring 200,200b for 20s → voicemail 200 → not available"},
			"2026-11-24 17:00": {3, "ring 200b for 12s → ring 201 for 30s → voicemail 201 → not available"},
			"2026-11-28 10:00": {3, "ring 200b for 12s → ring 201 for 30s → voicemail 201 → not available"},
			"2026-12-24 10:00": {1, "call +4930123456 for 40s → voicemail 200 → not available"},
		} {
			v, err := ops.CallHandling(c, "200", at)
			if err != nil || v.Active != want.active || v.Plan != want.plan || v.At.Format("2006-01-02 15:04") != at {
				t.Fatalf("at %s: active %d, plan %q, at %v, %v; want %d, %q", at, v.Active, v.Plan, v.At, err, want.active, want.plan)
			}
		}
		// In New York, 10:00 in Berlin is 04:00: outside office hours.
		if _, err := ops.SetTimeZone(c, "America/New_York"); err != nil {
			t.Fatal(err)
		}
		if v, _ := ops.CallHandling(c, "200", "2026-11-24T09:00:00Z"); v.Active != 3 || v.TimeZone != "America/New_York" {
			t.Fatalf("in New York: %+v", v)
		}
		ops.SetTimeZone(c, "Europe/Berlin")
		_, err = ops.CallHandling(c, "200", "tomorrow")
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.CallHandling(c, "299", "")
		wantStatus(t, err, http.StatusNotFound)

		// Switch off, move, remove; by number or name (any case).
		res, err = ops.SetRuleEnabled(c, "200", "OFFICE", false)
		if err != nil || !res.Rule.Disabled || res.Rule.Number != 2 {
			t.Fatalf("disable: %+v, %v", res.Rule, err)
		}
		if v, _ := ops.CallHandling(c, "200", "2026-11-24 10:00"); v.Active != 3 {
			t.Fatalf("a disabled rule is still active: %d", v.Active)
		}
		if res, err = ops.SetRuleEnabled(c, "200", "2", true); err != nil || res.Rule.Disabled {
			t.Fatalf("enable: %+v, %v", res.Rule, err)
		}
		res, err = ops.MoveRule(c, "200", "lunch / break", 1)
		if err != nil || res.Rule.Name != "lunch / break" || res.Rule.Number != 1 || res.Handling.Rules[1].Name != "holidays" {
			t.Fatalf("move: %+v, %v", res, err)
		}
		if v, _ := ops.CallHandling(c, "200", "2026-11-24 10:00"); v.Active != 1 {
			t.Fatalf("after moving the always-rule first: active %d", v.Active)
		}
		_, err = ops.MoveRule(c, "200", "1", 4)
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.MoveRule(c, "200", "1", 0)
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.SetRuleEnabled(c, "200", "4", true)
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.RemoveRule(c, "200", "weekend")
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.RemoveRule(c, "299", "1")
		wantStatus(t, err, http.StatusNotFound)
		res, err = ops.RemoveRule(c, "200", "Lunch / Break")
		if err != nil || res.Rule.Name != "lunch / break" || res.Rule.Number != 1 || len(res.Handling.Rules) != 2 {
			t.Fatalf("remove by name: %+v, %v", res, err)
		}
		if res, err = ops.RemoveRule(c, "200", "2"); err != nil || res.Rule.Name != "office" {
			t.Fatalf("remove by number: %+v, %v", res, err)
		}
		h, _ := st.CallHandling("200")
		if len(h.Rules) != 1 || h.Rules[0].Name != "holidays" {
			t.Fatalf("stored rules: %+v", h.Rules)
		}
	})
}

func TestDNDAndForward(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		rulesOffice(t, ops)
		v, err := ops.CallHandling(c, "200", "")
		if err != nil || v.Plan != "ring 200,200b for 30s → voicemail 200 → not available" || v.Active != 0 || len(v.Rules) != 0 {
			t.Fatalf("the default: %+v, %v", v, err)
		}
		v, err = ops.SetForward(c, "200", "201")
		if err != nil || v.ForwardTo != "201" || v.ForwardName != "Bob Jones" || v.Override != "forward" ||
			v.Plan != "ring 201 for 30s → voicemail 201 → not available" {
			t.Fatalf("forward to 201: %+v, %v", v, err)
		}
		v, err = ops.SetDND(c, "200", true)
		if err != nil || !v.DND || v.Override != "dnd" || v.Plan != "voicemail 200 → not available" {
			t.Fatalf("DND: %+v, %v", v, err)
		}
		ops.SetDND(c, "200", false)
		v, err = ops.SetForward(c, "200", "+4930123456")
		if err != nil || v.ForwardName != "" || v.Plan != "call +4930123456 for 40s → not available" {
			t.Fatalf("forward outside: %+v, %v", v, err)
		}
		for _, bad := range []string{"abc", "+", "200", "12 34", "sip:x@y"} {
			_, err := ops.SetForward(c, "200", bad)
			wantStatus(t, err, http.StatusBadRequest)
		}
		_, err = ops.SetForward(c, "299", "201")
		wantStatus(t, err, http.StatusNotFound)
		_, err = ops.SetDND(c, "299", true)
		wantStatus(t, err, http.StatusNotFound)
		if v, _ = ops.SetForward(c, "200", ""); v.ForwardTo != "" || v.Override != "" {
			t.Fatalf("forward off: %+v", v)
		}
		if h, _ := st.CallHandling("200"); h.DND || h.ForwardTo != "" {
			t.Fatalf("stored: %+v", h)
		}
	})
}
