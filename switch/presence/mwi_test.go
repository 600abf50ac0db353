package presence

import (
	"strings"
	"testing"
)

func TestSummaryBodyRoundTrip(t *testing.T) {
	for _, s := range []Summary{
		{Account: "sip:200@10.0.0.1", New: 0, Old: 0},
		{Account: "sip:200@10.0.0.1", New: 3, Old: 12},
		{Account: "sip:2001@pbx.example.com", New: 0, Old: 7},
	} {
		body := string(s.Body())
		if !strings.HasSuffix(body, "\r\n") || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
			t.Errorf("body %q: want CRLF line ends", body)
		}
		got, waiting, err := ParseSummary([]byte(body))
		if err != nil || got != s || waiting != (s.New > 0) {
			t.Errorf("round trip of %+v: %+v waiting=%v %v", s, got, waiting, err)
		}
	}
	want := "Messages-Waiting: yes\r\nMessage-Account: sip:200@h\r\nVoice-Message: 2/1 (0/0)\r\n"
	if got := string(Summary{Account: "sip:200@h", New: 2, Old: 1}.Body()); got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

func TestParseSummary(t *testing.T) {
	for _, tc := range []struct {
		body    string
		ok      bool
		waiting bool
		nw, old int
	}{
		{"Messages-Waiting: yes\r\nVoice-Message: 4/8 (1/2)\r\n", true, true, 4, 8},
		{"messages-waiting:no\nvoice-message: 0/2\n", true, false, 0, 2},
		{"Messages-Waiting: yes\r\nMessage-Account: sip:x@y\r\nFax-Message: 1/0\r\n", true, true, 0, 0},
		{"Messages-Waiting: maybe\r\n", false, false, 0, 0},
		{"Voice-Message: 1/1\r\n", false, false, 0, 0},
		{"Messages-Waiting: yes\r\nVoice-Message: -1/2\r\n", false, false, 0, 0},
		{"Messages-Waiting: yes\r\nVoice-Message: 12\r\n", false, false, 0, 0},
		{"Messages-Waiting: yes\r\nnonsense\r\n", false, false, 0, 0},
		{"", false, false, 0, 0},
	} {
		s, waiting, err := ParseSummary([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.body, err, tc.ok)
			continue
		}
		if tc.ok && (waiting != tc.waiting || s.New != tc.nw || s.Old != tc.old) {
			t.Errorf("%q: %+v waiting=%v", tc.body, s, waiting)
		}
	}
}

func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		in, pkg, echo string
		ok            bool
	}{
		{"message-summary", "message-summary", "message-summary", true},
		{" Message-Summary ; id=7", "message-summary", "message-summary;id=7", true},
		{"dialog;foo=bar", "dialog", "dialog", true},
		{"presence.winfo", "presence.winfo", "presence.winfo", true},
		{"", "", "", false},
		{";id=1", "", "", false},
		{"message-summary;id=", "", "", false},
		{"message-summary;id=a b", "", "", false},
		{"a b", "", "", false},
	} {
		pkg, echo, ok := parseEvent(tc.in)
		if ok != tc.ok || pkg != tc.pkg || echo != tc.echo {
			t.Errorf("parseEvent(%q) = %q, %q, %v; want %q, %q, %v", tc.in, pkg, echo, ok, tc.pkg, tc.echo, tc.ok)
		}
	}
}

// FuzzParseSummary: a phone-side parser, but it reads what arrives from the
// network; it must never panic and must round-trip what it accepts.
func FuzzParseSummary(f *testing.F) {
	f.Add([]byte("Messages-Waiting: yes\r\nMessage-Account: sip:200@h\r\nVoice-Message: 2/1 (0/0)\r\n"))
	f.Add([]byte("Messages-Waiting: no\n"))
	f.Add([]byte("Messages-Waiting: yes\r\nVoice-Message: 99999999999999999999/1\r\n"))
	f.Add([]byte(":\r\n::\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, _, err := ParseSummary(body)
		if err != nil {
			return
		}
		if s.New < 0 || s.Old < 0 || s.New > maxCount || s.Old > maxCount {
			t.Fatalf("accepted counts %d/%d", s.New, s.Old)
		}
		if strings.ContainsAny(s.Account, "\r\n") {
			return // not something we would write back
		}
		again, _, err := ParseSummary(s.Body())
		if err != nil || again.New != s.New || again.Old != s.Old {
			t.Fatalf("re-parse of %+v: %+v %v", s, again, err)
		}
	})
}

// FuzzParseEvent: the Event header of every SUBSCRIBE goes through parseEvent.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{"message-summary", "message-summary;id=1", "dialog;sla", "presence ; ID = x", ";", "a;id=\"x\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		pkg, echo, ok := parseEvent(v)
		if !ok {
			return
		}
		if pkg == "" || strings.ContainsAny(echo, "\r\n\" ,") || !strings.HasPrefix(echo, pkg) {
			t.Fatalf("parseEvent(%q) = %q, %q", v, pkg, echo)
		}
	})
}
