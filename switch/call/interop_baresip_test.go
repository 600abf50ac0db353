package call_test

import (
	"path/filepath"
	"testing"
	"time"

	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/phonetest"
)

// TestInteropBaresipCallsBaresip: two real softphones (baresip) register to
// the switch and call each other through it; each plays its own tone into
// the call and records what it hears, and each must hear the other's tone.
//
// Run it alone with: go test ./switch/call -run Interop -v
// (needs apt-get install baresip).
func TestInteropBaresipCallsBaresip(t *testing.T) {
	bin := phonetest.RequireTool(t, "baresip", "apt-get install baresip")
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")

	// Each microphone plays a tone for longer than the call lasts.
	const aliceTone, bobTone = 440.0, 1000.0
	mics := t.TempDir()
	phones := map[string]*phonetest.Baresip{}
	for _, p := range []struct {
		user string
		tone float64
	}{{"200", aliceTone}, {"201", bobTone}} {
		mic := filepath.Join(mics, p.user+".wav")
		if err := tonetest.WriteWAV(mic, tonetest.Sine(p.tone, 20_000)); err != nil {
			t.Fatal(err)
		}
		phones[p.user] = phonetest.StartBaresip(t, bin, phonetest.BaresipOptions{
			User: p.user, Password: "secret-" + p.user, Server: sw.Addr(), Microphone: mic, AutoAnswer: true})
	}
	alice, bob := phones["200"], phones["201"]
	for user := range phones {
		waitRegistered(t, sw, user)
	}

	if err := alice.Command("dial", "201"); err != nil {
		t.Fatal(err)
	}
	for user, p := range phones {
		if _, err := p.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
	}
	const talk = 3 * time.Second
	time.Sleep(talk) // the conversation: what is checked is what each phone recorded meanwhile
	if err := alice.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	for user, p := range phones {
		if ev, err := p.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatalf("%s: %v", user, err)
		} else {
			t.Logf("%s: call closed (%s)", user, ev.Param)
		}
	}

	rec := lastRecord(t, sw)
	if rec.Disposition != store.Answered || rec.Caller != "200" || rec.Callee != "201" || rec.AnsweredBy != "201" ||
		rec.Cause != "caller hung up" || rec.Duration() < talk-500*time.Millisecond {
		t.Errorf("call record = %+v, want answered by 201, hung up by the caller after about %v", rec, talk)
	}

	for user, p := range phones {
		p.Stop() // sndfile completes its files when the call's audio ends; be sure it did
		heard, other := bobTone, "201"
		if p == bob {
			heard, other = aliceTone, "200"
		}
		files := p.Recordings()
		if len(files) != 1 {
			t.Fatalf("%s: recordings %v, want one for the call", user, files)
		}
		samples, err := tonetest.ReadWAV(files[0])
		if err != nil {
			t.Fatal(err)
		}
		ratio, dur := tonetest.Ratio(samples, heard), tonetest.Heard(samples, heard)
		t.Logf("%s heard %v of %s's %.0f Hz tone (%.0f%% of the power) in %.1f s recorded",
			user, dur, other, heard, 100*ratio, float64(len(samples))/8000)
		if ratio < 0.8 || dur < talk-time.Second {
			t.Errorf("%s did not hear %s: %.0f Hz holds %.0f%% of the recording's power (want ≥ 80%%) and is heard for %v (want ≥ %v); recording %s",
				user, other, heard, 100*ratio, dur, talk-time.Second, files[0])
		}
	}
}

// waitRegistered waits until the device has a registration.
func waitRegistered(t *testing.T, sw *phonetest.Switch, device string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(sw.Registrar().Lookup(device)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("device %s did not register", device)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastRecord waits for the newest call record.
func lastRecord(t *testing.T, sw *phonetest.Switch) store.CallRecord {
	t.Helper()
	o := &office{sw: sw}
	return o.lastCall(t)
}
