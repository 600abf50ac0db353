package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeReg struct{}

func (fakeReg) Counts() (int, int) { return 3, 4 }

type fakeCalls struct{}

func (fakeCalls) ActiveCalls() int                   { return 2 }
func (fakeCalls) RTP() (uint64, uint64, uint64, int) { return 100, 98, 1, 4 }

func TestMetrics(t *testing.T) {
	get := func(calls Calls) string {
		rec := httptest.NewRecorder()
		Handler(fakeReg{}, func() uint64 { return 7 }, calls).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		return string(body)
	}
	body := get(fakeCalls{})
	for _, want := range []string{
		"\nswitchboard_registered_devices 3\n", "\nswitchboard_registrations 4\n", "\nswitchboard_events_dropped_total 7\n",
		"\nswitchboard_active_calls 2\n", "\nswitchboard_media_endpoints 4\n",
		"\nswitchboard_rtp_packets_in_total 100\n", "\nswitchboard_rtp_packets_out_total 98\n",
		"\nswitchboard_rtp_packets_ignored_total 1\n", "# TYPE switchboard_rtp_packets_in_total counter\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if body := get(nil); strings.Contains(body, "rtp") || !strings.Contains(body, "switchboard_registrations 4") {
		t.Errorf("metrics without calls:\n%s", body)
	}
}
