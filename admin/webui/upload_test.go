package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"switchboard/switch/route"
)

// Uploads wait for a slot; a request that ends while waiting gets a 503.
func TestUploadSlots(t *testing.T) {
	e := newEnv(t)
	var releases []func()
	for range maxUploads {
		release, err := e.app.uploadSlot(httptest.NewRequest("PUT", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.app.uploadSlot(httptest.NewRequest("PUT", "/", nil).WithContext(ctx))
	if e, ok := err.(*Error); !ok || e.Status != http.StatusServiceUnavailable {
		t.Fatalf("a busy slot: %v", err)
	}
	releases[0]()
	release, err := e.app.uploadSlot(httptest.NewRequest("PUT", "/", nil))
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	release()
	releases[1]()
}

// FuzzFrameForm: whatever a time-frame form sends, reading it never
// panics, and a frame it accepts passes route.CheckTimeFrame.
func FuzzFrameForm(f *testing.F) {
	f.Add("weekly_rows=2&date_rows=2&name=Office&w0_days=1&w0_days=5&w0_start=09:00&w0_end=17:00&d0_from=2026-12-24&d0_to=2026-12-26")
	f.Add("weekly_rows=1&w0_days=6&w0_start=&w0_end=")
	f.Add("weekly_rows=99999999999999999999&date_rows=-1&w0_days=9&w0_start=24:00&w0_end=00:00")
	f.Add("date_rows=1&d0_from=2026-02-30&d0_start=10:00")
	f.Add("weekly_rows=1&w0_days=1&w0_start=22:00:00&w0_end=06:00:00")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/me/timeframes", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := url.ParseQuery(body); err != nil {
			return
		}
		f := readFrameForm(r)
		if len(f.Weekly) > maxFrameRows || len(f.Dates) > maxFrameRows {
			t.Fatalf("%d weekly and %d date rows", len(f.Weekly), len(f.Dates))
		}
		tf, ok := f.frame()
		tf.Name = "x"
		if ok && (len(tf.Weekly) > 0 || len(tf.Dates) > 0) {
			if err := route.CheckTimeFrame(tf); err != nil {
				t.Fatalf("accepted %+v, which route refuses: %v", tf, err)
			}
		}
	})
}
