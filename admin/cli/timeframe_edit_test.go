package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

// timeframe edit and user set --department, without and with a running server.
func TestTimeFrameEditAndDepartment(t *testing.T) {
	check := func(t *testing.T, dir string) {
		run := func(want int, args ...string) string {
			t.Helper()
			code, stdout, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
			if code != want {
				t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
			}
			return stdout + stderr
		}
		run(0, "user", "add", "--ext", "200", "--name", "Alice Smith")
		run(0, "user", "set", "--ext", "200", "--department", " Sales ")
		if out := run(0, "user", "list", "--json"); !strings.Contains(out, `"department":"Sales"`) {
			t.Fatalf("department: %s", out)
		}
		run(2, "user", "set", "--ext", "200", "--department", strings.Repeat("x", 101))
		run(3, "user", "set", "--ext", "299", "--department", "Sales")
		run(0, "user", "set", "--ext", "200", "--department", "")
		if out := run(0, "user", "list", "--json"); strings.Contains(out, `"department"`) {
			t.Fatalf("department cleared: %s", out)
		}

		run(0, "timeframe", "add", "--name", "Office hours", "--weekly", "mon-fri 09:00-17:00")
		run(0, "timeframe", "add", "--name", "Gym", "--owner", "200", "--weekly", "tue 18:00-20:00")
		run(0, "rule", "add", "--ext", "200", "--name", "gym", "--time-frame", "gym", "--first", "voicemail")
		out := run(0, "timeframe", "edit", "office HOURS", "--weekly", "mon-fri 08:30-17:30", "--date", "2026-12-24")
		if !strings.Contains(out, "changed time frame office-hours (Office hours): mon-fri 08:30-17:30; 2026-12-24") {
			t.Fatalf("edit times: %s", out)
		}
		if out := run(0, "timeframe", "edit", "gym", "--name", "Gym and pool"); !strings.Contains(out, "(Gym and pool): tue 18:00-20:00") {
			t.Fatalf("rename: %s", out)
		}
		frames := func() map[string]control.TimeFrameView {
			var list []control.TimeFrameView
			if err := json.Unmarshal([]byte(run(0, "timeframe", "list", "--json")), &list); err != nil {
				t.Fatal(err)
			}
			m := map[string]control.TimeFrameView{}
			for _, f := range list {
				m[f.Name] = f
			}
			return m
		}
		if tf := frames()["Gym and pool"]; tf.Owner != "200" || len(tf.UsedBy) != 1 {
			t.Fatalf("stored: %+v", tf)
		}
		run(2, "timeframe", "edit", "gym")                                    // nothing to change
		run(2, "timeframe", "edit", "gym", "--weekly", "someday 9:00-10:00")  // bad times
		run(2, "timeframe", "edit", "gym and pool", "--name", "")             // no name
		run(4, "timeframe", "edit", "gym and pool", "--name", "office hours") // taken: a conflict
		run(3, "timeframe", "edit", "nope", "--name", "X")
		run(2, "timeframe", "edit")
		if tf, ok := frames()["Gym and pool"]; !ok || len(tf.Weekly) != 1 {
			t.Fatalf("changed by a failed edit: %+v", frames())
		}
	}
	t.Run("local", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		check(t, dir)
	})
	t.Run("server", func(t *testing.T) {
		dir := t.TempDir()
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		l, err := control.Listen(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			control.Serve(ctx, l, &control.Local{Store: st, Reg: noRegistrations{}}, slog.New(slog.DiscardHandler))
		})
		defer wg.Wait()
		defer cancel()
		check(t, dir)
	})
}
