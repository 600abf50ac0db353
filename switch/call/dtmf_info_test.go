package call

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInfoDigit(t *testing.T) {
	tests := []struct {
		ct   string
		body string
		want byte // 0: not a digit
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5'},
		{"application/dtmf-relay", "Signal= #\nDuration= 250\n", '#'},
		{"Application/DTMF-Relay; charset=utf-8", "signal=*\r\n", '*'},
		{"application/dtmf-relay", "Duration=160\r\nSignal=11\r\n", '#'},
		{"application/dtmf-relay", "Signal=10", '*'},
		{"application/dtmf-relay", "Signal=12", 'A'},
		{"application/dtmf-relay", "Signal=d", 'D'},
		{"application/dtmf-relay", "Signal=16\r\nDuration=100", 0}, // flash hook
		{"application/dtmf-relay", "Signal=55", 0},
		{"application/dtmf-relay", "Duration=160", 0},
		{"application/dtmf-relay", "", 0},
		{"application/dtmf", "7", '7'},
		{"application/dtmf", " 0\r\n", '0'},
		{"application/dtmf", "77", 0},
		{"application/sdp", "Signal=5", 0},
		{"", "Signal=5", 0},
	}
	for _, tt := range tests {
		got, ok := infoDigit(tt.ct, []byte(tt.body))
		if ok != (tt.want != 0) || got != tt.want {
			t.Errorf("infoDigit(%q, %q) = %q %v, want %q", tt.ct, tt.body, got, ok, tt.want)
		}
	}
}

func FuzzInfoDigit(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/fuzz/FuzzInfoDigit/*")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add("application/dtmf-relay", b)
			f.Add("application/dtmf", b)
		}
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, ok := infoDigit(ct, body)
		if ok && !(d >= '0' && d <= '9' || d == '*' || d == '#' || d >= 'A' && d <= 'D') {
			t.Fatalf("infoDigit returned %q", d)
		}
	})
}
