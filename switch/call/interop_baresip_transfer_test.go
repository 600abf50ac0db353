package call_test

import (
	"path/filepath"
	"testing"
	"time"

	"switchboard/media/tonetest"
	"switchboard/switch/phonetest"
)

// TestInteropBaresipBlindTransfer: two real softphones (baresip) in a call;
// 201 blind-transfers it to 202 with baresip's own transfer command (REFER,
// then it reads our NOTIFYs and closes its call). 200, a real phone as the
// transferee, must then hear 202's tone on the stream it already had, and
// 202 must hear 200's.
//
// Run it alone with: go test ./switch/call -run Interop -v
// (needs apt-get install baresip).
func TestInteropBaresipBlindTransfer(t *testing.T) {
	bin := phonetest.RequireTool(t, "baresip", "apt-get install baresip")
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	for _, ext := range []string{"200", "201", "202"} {
		sw.AddUser(t, ext, "secret-"+ext)
	}
	const aliceTone, bobTone, carolTone = 440.0, 1000.0, 1500.0
	mics := t.TempDir()
	start := func(user string, tone float64) *phonetest.Baresip {
		mic := filepath.Join(mics, user+".wav")
		if err := tonetest.WriteWAV(mic, tonetest.Sine(tone, 30_000)); err != nil {
			t.Fatal(err)
		}
		return phonetest.StartBaresip(t, bin, phonetest.BaresipOptions{
			User: user, Password: "secret-" + user, Server: sw.Addr(), Microphone: mic, AutoAnswer: true})
	}
	alice, bob := start("200", aliceTone), start("201", bobTone)
	carol := sw.Phone(t, "202", "secret-202", phonetest.Options{LocalIP: "127.0.0.3"})
	if res, err := carol.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 202: %v %v", res, err)
	}
	waitRegistered(t, sw, "200")
	waitRegistered(t, sw, "201")

	if err := alice.Command("dial", "201"); err != nil {
		t.Fatal(err)
	}
	for user, p := range map[string]*phonetest.Baresip{"200": alice, "201": bob} {
		if _, err := p.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
	}
	time.Sleep(time.Second) // 200 and 201 talk
	if err := bob.Command("transfer", "sip:202@"+sw.Addr()); err != nil {
		t.Fatal(err)
	}
	if ev, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("201 (the transferor): %v", err)
	} else {
		t.Logf("201: call closed (%s)", ev.Param)
	}
	c := answered(t, carol)
	c.Received()
	const talk = 2 * time.Second
	if err := c.SendTone(ctx(t), carolTone, talk); err != nil {
		t.Fatal(err)
	}
	if err := c.HearsTone(aliceTone); err != nil {
		t.Errorf("202 does not hear 200 after the transfer: %v", err)
	}
	if err := c.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("200: %v", err)
	}

	rec := lastRecord(t, sw)
	if len(rec.Transfers) != 1 || rec.Transfers[0].By != "201" || rec.Transfers[0].To != "202" || rec.Transfers[0].AnsweredBy != "202" {
		t.Errorf("call record = %+v, want one transfer by 201 to 202, answered", rec)
	}

	alice.Stop() // sndfile completes its file when the call's audio ends
	files := alice.Recordings()
	if len(files) != 1 {
		t.Fatalf("200: recordings %v, want one for the whole call", files)
	}
	samples, err := tonetest.ReadWAV(files[0])
	if err != nil {
		t.Fatal(err)
	}
	heardBob, heardCarol := tonetest.Heard(samples, bobTone), tonetest.Heard(samples, carolTone)
	t.Logf("200 heard 201's tone for %v and 202's for %v in %.1f s recorded", heardBob, heardCarol, float64(len(samples))/8000)
	if heardBob < 500*time.Millisecond || heardCarol < talk-500*time.Millisecond {
		t.Errorf("200 (the transferee) heard 201 for %v (want ≥ 0.5 s) and 202 for %v (want ≥ %v); recording %s",
			heardBob, heardCarol, talk-500*time.Millisecond, files[0])
	}
}
