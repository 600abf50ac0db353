package media_test

import (
	"errors"
	"testing"

	"switchboard/media"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    media.Event
		digit   rune
		wantErr error
	}{
		{"5 start", []byte{5, 10, 0x00, 0xA0}, media.Event{Code: 5, Volume: 10, Duration: 160}, '5', nil},
		{"# end", []byte{11, 0x80 | 7, 0x03, 0x20}, media.Event{Code: 11, End: true, Volume: 7, Duration: 800}, '#', nil},
		{"* reserved bit ignored", []byte{10, 0x40 | 63, 0xFF, 0xFF}, media.Event{Code: 10, Volume: 63, Duration: 65535}, '*', nil},
		{"D", []byte{15, 0, 0, 0}, media.Event{Code: 15}, 'D', nil},
		{"flash has no digit", []byte{16, 0, 0, 1}, media.Event{Code: 16, Duration: 1}, 0, nil},
		{"two events: first read", []byte{1, 0, 0, 1, 2, 0, 0, 2}, media.Event{Code: 1, Duration: 1}, '1', nil},
		{"short", []byte{1, 2, 3}, media.Event{}, 0, media.ErrShortEvent},
		{"empty", nil, media.Event{}, 0, media.ErrShortEvent},
	}
	for _, tt := range tests {
		got, err := media.ParseEvent(tt.payload)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("%s: ParseEvent = %+v, %v; want %+v, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if d, ok := got.Digit(); err == nil && (d != tt.digit || ok != (tt.digit != 0)) {
			t.Errorf("%s: Digit = %q, %v; want %q", tt.name, d, ok, tt.digit)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, key := range "0123456789*#ABCDabcd" {
		code, ok := media.EventCode(key)
		if !ok {
			t.Fatalf("EventCode(%q) not ok", key)
		}
		e := media.Event{Code: code, End: code%2 == 0, Volume: 10, Duration: 1280}
		got, err := media.ParseEvent(e.AppendTo(nil))
		if err != nil || got != e {
			t.Errorf("%q: round trip %+v → %+v, %v", key, e, got, err)
		}
		if d, _ := got.Digit(); d != key && d != key-('a'-'A') {
			t.Errorf("%q: Digit %q", key, d)
		}
	}
	if _, ok := media.EventCode('x'); ok {
		t.Error("EventCode('x') ok")
	}
}
