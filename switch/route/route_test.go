package route

import (
	"testing"
	"time"

	"switchboard/store"
)

type fakeDir struct {
	users    map[string]store.User
	devices  map[string][]store.Device
	handling map[string]store.CallHandling
	frames   map[string]store.TimeFrame
}

func (f fakeDir) User(ext string) (store.User, error) {
	u, ok := f.users[ext]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (f fakeDir) Devices(ext string) ([]store.Device, error) { return f.devices[ext], nil }

func (f fakeDir) CallHandling(ext string) (store.CallHandling, error) {
	return f.handling[ext], nil
}

func (f fakeDir) TimeZone() (string, error) { return "UTC", nil }

func (f fakeDir) TimeFrame(id string) (store.TimeFrame, error) {
	tf, ok := f.frames[id]
	if !ok {
		return tf, store.ErrNotFound
	}
	return tf, nil
}

func office() fakeDir {
	ring := func(a store.Action, target string, secs int) store.RuleStep {
		return store.RuleStep{Action: a, Target: target, RingSeconds: secs}
	}
	return fakeDir{
		users: map[string]store.User{
			"200": {Ext: "200", FirstName: "Alice", LastName: "Smith"},
			"201": {Ext: "201", FirstName: "Bob"},
			"202": {Ext: "202", Disabled: true},
			"203": {Ext: "203"},
			"204": {Ext: "204"}, "205": {Ext: "205"}, "206": {Ext: "206"}, "207": {Ext: "207"},
			"208": {Ext: "208"}, "209": {Ext: "209"}, "210": {Ext: "210"}, "211": {Ext: "211"},
		},
		devices: map[string][]store.Device{
			"200": {{ID: "200"}, {ID: "200b"}, {ID: "200c", Disabled: true}},
			"201": {{ID: "201"}},
			"202": {{ID: "202"}},
			"203": {{ID: "203", Disabled: true}},
			"204": {{ID: "204"}, {ID: "204b", Disabled: true}},
			"205": {{ID: "205"}}, "206": {{ID: "206"}}, "207": {{ID: "207"}},
			"208": {{ID: "208"}}, "209": {{ID: "209"}}, "210": {{ID: "210"}}, "211": {{ID: "211"}},
		},
		handling: map[string]store.CallHandling{
			"201": {DND: true},
			"204": {Rules: []store.AnsweringRule{
				{Name: "office hours", TimeFrame: "hours", First: ring(store.ActRingAllPhones, "", 20),
					IfNoAnswer: ring(store.ActForwardNumber, "0761234567", 0)},
				{Name: "gone frame", TimeFrame: "deleted", First: ring(store.ActDisconnect, "", 0)},
				{Name: "switched off", Disabled: true, First: ring(store.ActDisconnect, "", 0)},
				{Name: "after hours", First: ring(store.ActRingPhone, "204b", 0), IfNoAnswer: ring(store.ActVoicemail, "", 0)},
			}},
			"205": {Rules: []store.AnsweringRule{{Name: "to bob's colleague", First: ring(store.ActForwardUser, "206", 0)}}},
			"206": {Rules: []store.AnsweringRule{{Name: "ring then sip", First: ring(store.ActRingMyPhones, "", 0),
				IfNoAnswer: ring(store.ActForwardSIP, "sip:help@192.0.2.7", 30)}}},
			"207": {Rules: []store.AnsweringRule{{Name: "loop", First: ring(store.ActRingMyPhones, "", 5),
				IfNoAnswer: ring(store.ActForwardUser, "208", 0)}}},
			"208": {Rules: []store.AnsweringRule{{Name: "loop back", First: ring(store.ActForwardUser, "207", 0)}}},
			"209": {ForwardTo: "201"},
			"210": {ForwardTo: "0761234567"},
			"211": {Rules: []store.AnsweringRule{{Name: "message", First: ring(store.ActDisconnect, "", 0)}}},
		},
		frames: map[string]store.TimeFrame{
			"hours": {ID: "hours", Name: "Office hours", Weekly: []store.WeeklyRange{{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}}},
		},
	}
}

func TestRoute(t *testing.T) {
	tuesday10 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tuesday20 := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      Input
		setting Settings
		now     time.Time
		want    string
	}{
		{"default: enabled devices ring, then voicemail", Input{CallerDevice: "201", Dialled: "200"}, Settings{}, tuesday10,
			"ring 200,200b for 30s → voicemail 200 → not available"},
		{"only disabled phones: voicemail", Input{CallerDevice: "200", Dialled: "203"}, Settings{}, tuesday10,
			"voicemail 203 → not available"},
		{"calling own extension rings the other phones", Input{CallerDevice: "200b", Dialled: "200"}, Settings{}, tuesday10,
			"ring 200 for 30s → voicemail 200 → not available"},
		{"do not disturb", Input{CallerDevice: "200", Dialled: "201"}, Settings{}, tuesday10, "voicemail 201 → not available"},
		{"unknown extension", Input{CallerDevice: "200", Dialled: "299"}, Settings{}, tuesday10, "not-found: no user has extension 299"},
		{"not an extension", Input{CallerDevice: "200", Dialled: "#97"}, Settings{}, tuesday10, `not-found: "#97" is not an extension`},
		{"leading zero", Input{CallerDevice: "200", Dialled: "0200"}, Settings{}, tuesday10, `not-found: "0200" is not an extension`},
		{"disabled user", Input{CallerDevice: "200", Dialled: "202"}, Settings{}, tuesday10, "unavailable: user 202 is disabled"},
		{"from outside", Input{Dialled: "200"}, Settings{}, tuesday10, "ring 200,200b for 30s → voicemail 200 → not available"},
		{"rule in its time frame: all phones, then outside", Input{CallerDevice: "200", Dialled: "204"}, Settings{}, tuesday10,
			"ring 204,204b for 20s → call 0761234567 for 40s → not available"},
		{"outside the frame: the next matching rule", Input{CallerDevice: "200", Dialled: "204"}, Settings{}, tuesday20,
			"ring 204b for 12s → voicemail 204 → not available"},
		{"frame read in the office's time zone", Input{CallerDevice: "200", Dialled: "204"},
			Settings{Location: time.FixedZone("UTC-11", -11*3600)}, tuesday20, // 09:00 local
			"ring 204,204b for 20s → call 0761234567 for 40s → not available"},
		{"forward to a user follows their rules", Input{CallerDevice: "200", Dialled: "205"}, Settings{}, tuesday10,
			"ring 206 for 12s → call sip:help@192.0.2.7 for 30s → not available"},
		{"forwarding loop ends", Input{CallerDevice: "200", Dialled: "207"}, Settings{}, tuesday10,
			"ring 207 for 5s → disconnect → not available"},
		{"feature-code forward to a user", Input{CallerDevice: "200", Dialled: "209"}, Settings{}, tuesday10,
			"voicemail 201 → not available"},
		{"feature-code forward to a number", Input{CallerDevice: "200", Dialled: "210"}, Settings{}, tuesday10,
			"call 0761234567 for 40s → not available"},
		{"disconnect with a message", Input{CallerDevice: "200", Dialled: "211"}, Settings{}, tuesday10, "disconnect → not available"},
		{"own voicemail", Input{CallerDevice: "200b", Dialled: "*97"}, Settings{}, tuesday10, "feature voicemail"},
		{"forward on with a number", Input{CallerDevice: "200", Dialled: "*72201"}, Settings{}, tuesday10, "feature forward_on 201"},
		{"forward on without a number", Input{CallerDevice: "200", Dialled: "*72"}, Settings{}, tuesday10,
			"not-found: *72 needs a number after it"},
		{"unknown feature", Input{CallerDevice: "200", Dialled: "*55"}, Settings{}, tuesday10, `not-found: "*55" is not a feature code`},
		{"features not from outside", Input{Dialled: "*97"}, Settings{}, tuesday10, "not-found: feature codes are for our own phones"},
		{"configured codes", Input{CallerDevice: "200", Dialled: "*8"}, Settings{Features: map[string]Code{"*8": DNDToggle}}, tuesday10,
			"feature dnd_toggle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Route(tt.in, office(), tt.setting, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.want {
				t.Fatalf("plan = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckFeatures(t *testing.T) {
	if err := CheckFeatures(DefaultFeatures); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []map[string]Code{
		{"97": VoicemailOwn},
		{"*9a": VoicemailOwn},
		{"*97": "coffee"},
		{"*7": ForwardOn, "*78": DNDOn},
	} {
		if CheckFeatures(bad) == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
