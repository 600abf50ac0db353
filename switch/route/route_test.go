package route

import (
	"testing"
	"time"

	"switchboard/store"
)

type fakeDir struct {
	users   map[string]store.User
	devices map[string][]store.Device
}

func (f fakeDir) User(ext string) (store.User, error) {
	u, ok := f.users[ext]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (f fakeDir) Devices(ext string) ([]store.Device, error) { return f.devices[ext], nil }

func TestRoute(t *testing.T) {
	dir := fakeDir{
		users: map[string]store.User{
			"200": {Ext: "200", FirstName: "Alice", LastName: "Smith"},
			"201": {Ext: "201", FirstName: "Bob"},
			"202": {Ext: "202", Disabled: true},
			"203": {Ext: "203"},
		},
		devices: map[string][]store.Device{
			"200": {{ID: "200"}, {ID: "200b"}, {ID: "200c", Disabled: true}},
			"201": {{ID: "201"}},
			"202": {{ID: "202"}},
			"203": {{ID: "203", Disabled: true}},
		},
	}
	tests := []struct {
		name    string
		in      Input
		setting Settings
		want    string
	}{
		{"all enabled devices ring", Input{CallerDevice: "201", Dialled: "200"}, Settings{}, "ring 200,200b for 30s"},
		{"ring time from settings", Input{CallerDevice: "200", Dialled: "201"}, Settings{RingTime: 20 * time.Second}, "ring 201 for 20s"},
		{"calling own extension rings the other phones", Input{CallerDevice: "200b", Dialled: "200"}, Settings{}, "ring 200 for 30s"},
		{"own single phone", Input{CallerDevice: "201", Dialled: "201"}, Settings{}, "unavailable: extension 201 has no other enabled device"},
		{"unknown extension", Input{CallerDevice: "200", Dialled: "299"}, Settings{}, "not-found: no user has extension 299"},
		{"not an extension", Input{CallerDevice: "200", Dialled: "*97"}, Settings{}, `not-found: "*97" is not an extension`},
		{"leading zero", Input{CallerDevice: "200", Dialled: "0200"}, Settings{}, `not-found: "0200" is not an extension`},
		{"disabled user", Input{CallerDevice: "200", Dialled: "202"}, Settings{}, "unavailable: user 202 is disabled"},
		{"only disabled devices", Input{CallerDevice: "200", Dialled: "203"}, Settings{}, "unavailable: extension 203 has no other enabled device"},
		{"from outside", Input{Dialled: "201"}, Settings{}, "ring 201 for 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Route(tt.in, dir, tt.setting, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.want {
				t.Fatalf("plan = %q, want %q", got, tt.want)
			}
		})
	}
}
