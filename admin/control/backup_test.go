package control_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	bolt "go.etcd.io/bbolt"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/phonetest"
)

// records is everything an operator manages, for exact comparisons.
type records struct {
	Users    []store.User
	Devices  []store.Device
	Realm    string
	Nonce    string
	Install  string
	Settings map[string]string
}

func recordsOf(t testing.TB, st *store.Store) records {
	t.Helper()
	var r records
	var err error
	if r.Users, err = st.Users(); err != nil {
		t.Fatal(err)
	}
	if r.Devices, err = st.Devices(""); err != nil {
		t.Fatal(err)
	}
	if r.Realm, err = st.SIPRealm(); err != nil {
		t.Fatal(err)
	}
	nonce, err := st.NonceSecret()
	if err != nil {
		t.Fatal(err)
	}
	r.Nonce = string(nonce)
	if r.Install, err = st.InstallID(); err != nil {
		t.Fatal(err)
	}
	var greeting string
	if err := st.Setting("greeting", &greeting); err == nil {
		r.Settings = map[string]string{"greeting": greeting}
	}
	return r
}

// addUsers creates n users from ext 200 with SIP password "sip-pass-EXT", and
// a second device for every tenth.
func addUsers(t testing.TB, ops control.Ops, n int) {
	t.Helper()
	var specs []control.UserSpec
	for i := range n {
		ext := fmt.Sprint(200 + i)
		specs = append(specs, control.UserSpec{Ext: ext, Name: "User " + ext, SIPPassword: "sip-pass-" + ext})
	}
	if _, err := ops.ImportUsers(ctx(t), specs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 10 {
		if _, err := ops.AddDevice(ctx(t), fmt.Sprint(200+i), "device-pass-2"); err != nil {
			t.Fatal(err)
		}
	}
}

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitFor polls cond until it holds or the test's deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A backup taken while phones keep registering (and the registrar keeps
// writing their bindings) restores to a store identical to the live one.
func TestBackupDuringRegistrationLoad(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	local := &control.Local{Store: sw.Store, Reg: sw.Registrar()}
	client := serve(t, sw.Dir, local)
	addUsers(t, local, 200)
	if err := sw.Store.PutSetting("greeting", "Welcome"); err != nil {
		t.Fatal(err)
	}

	const workers, phonesEach = 4, 10
	stop := make(chan struct{})
	var registered, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		var phones []*phonetest.Phone
		for i := range phonesEach {
			ext := fmt.Sprint(200 + (w*phonesEach+i)*5)
			phones = append(phones, sw.Phone(t, ext, "sip-pass-"+ext, phonetest.Options{}))
		}
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := phones[n%len(phones)].Register(ctx(t), 600)
				if err != nil || res.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				registered.Add(1)
			}
		})
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)
	waitFor(t, "registrations saved in the store", func() bool {
		b, _ := sw.Store.Bindings(time.Now())
		return len(b) >= 10
	})

	want := recordsOf(t, sw.Store)
	var backups [][]byte
	for i := range 6 {
		var buf bytes.Buffer
		var err error
		var size int64
		if i%2 == 0 {
			_, err = sw.Store.Backup(&buf, func(n int64) { size = n })
		} else {
			_, err = client.Backup(ctx(t), &buf, func(n int64) { size = n })
		}
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if size != int64(buf.Len()) {
			t.Fatalf("backup %d: announced %d bytes, got %d", i, size, buf.Len())
		}
		backups = append(backups, buf.Bytes())
	}
	before := registered.Load()
	waitFor(t, "registrations to go on after the backups", func() bool { return registered.Load() > before+20 })
	stopLoad()
	t.Logf("%d registrations (%d failed) during the backups", registered.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d registrations failed under load", failed.Load())
	}

	for i, data := range backups {
		info, err := store.Validate(writeTemp(t, data))
		if err != nil {
			t.Fatalf("backup %d does not validate: %v", i, err)
		}
		if info.Users != 200 || info.Devices != 220 {
			t.Fatalf("backup %d: %+v", i, info)
		}
		fresh := openStore(t, t.TempDir())
		res, err := (&control.Local{Store: fresh}).Restore(ctx(t), bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("restore backup %d: %v", i, err)
		}
		if res.Live {
			t.Fatal("an offline restore says it is live")
		}
		if got := recordsOf(t, fresh); !reflect.DeepEqual(got, want) {
			t.Fatalf("backup %d restores to different records", i)
		}
		if err := fresh.Check(); err != nil {
			t.Fatalf("restored backup %d: %v", i, err)
		}
		bindings, err := fresh.Bindings(time.Now())
		if err != nil || len(bindings) == 0 {
			t.Fatalf("backup %d holds no registrations: %v", i, err)
		}
		for id := range bindings {
			if _, err := fresh.Device(id); err != nil {
				t.Fatalf("backup %d: registration of unknown device %s", i, id)
			}
		}
	}
}

// damagedBackups returns bad backup files made from a good one.
func damagedBackups(t testing.TB, good []byte) map[string][]byte {
	t.Helper()
	garbage := make([]byte, 64<<10)
	rand.Read(garbage)
	out := map[string][]byte{
		"empty":                  {},
		"random bytes":           garbage,
		"foreign non-bbolt file": []byte(strings.Repeat("<html>not a backup</html>\n", 300)),
	}
	for _, cut := range []int{100, 4096, len(good) / 2, len(good) - 1} {
		out[fmt.Sprintf("truncated at %d", cut)] = bytes.Clone(good[:cut])
	}
	page := bytes.Index(good, []byte(`"first_name"`)) / 4096
	for _, off := range []int{0, 8, 16, 20} {
		b := bytes.Clone(good)
		b[page*4096+off] ^= 0x5a
		out[fmt.Sprintf("byte %d of page %d flipped", off, page)] = b
	}

	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("widgets"))
		return b.Put([]byte("a"), []byte("1"))
	})
	db.Close()
	out["bbolt file of another program"] = readFile(t, foreign)

	st, err := store.Open(filepath.Join(dir, "newer"))
	if err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint32(nil, store.SchemaVersion()+1))
	})
	db.Close()
	out["store of a newer version"] = readFile(t, path)
	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A bad backup is refused and the live store stays exactly as it was, offline
// and through a running server's control socket.
func TestRestoreRefusesBadBackups(t *testing.T) {
	src := openStore(t, t.TempDir())
	addUsers(t, &control.Local{Store: src}, 150)
	var good bytes.Buffer
	if _, err := src.Backup(&good, nil); err != nil {
		t.Fatal(err)
	}
	bad := damagedBackups(t, good.Bytes())

	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		addUsers(t, ops, 20)
		want := recordsOf(t, st)
		wantBytes := readFile(t, st.Path())
		for name, data := range bad {
			_, err := ops.Restore(ctx(t), bytes.NewReader(data), int64(len(data)))
			if err == nil {
				t.Fatalf("%s: restored", name)
			}
			wantStatus(t, err, http.StatusBadRequest)
			if !bytes.Equal(readFile(t, st.Path()), wantBytes) {
				t.Fatalf("%s: the live store file changed", name)
			}
			if got := recordsOf(t, st); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: the live records changed", name)
			}
			entries, _ := os.ReadDir(st.Dir())
			for _, e := range entries {
				if e.Name() != store.FileName && e.Name() != control.SocketName {
					t.Fatalf("%s: left behind %s", name, e.Name())
				}
			}
		}
		if _, err := ops.AddUser(ctx(t), control.UserSpec{Ext: "999", Name: "Still Works"}); err != nil {
			t.Fatalf("the live store is not usable after refused restores: %v", err)
		}
		// And a good backup still restores.
		res, err := ops.Restore(ctx(t), bytes.NewReader(good.Bytes()), int64(good.Len()))
		if err != nil || res.Info.Users != 150 || res.Previous == "" {
			t.Fatalf("good restore: %+v, %v", res, err)
		}
	})
}

// mustStatus(t, 200)(phone.Register(…)) fails the test unless the answer is 200.
func mustStatus(t *testing.T, want int) func(*sip.Response, error) {
	return func(res *sip.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("want %d, got error %v", want, err)
		}
		if res.StatusCode != want {
			t.Fatalf("want %d, got %d %s", want, res.StatusCode, res.Reason)
		}
	}
}

// Restoring into a running switch: the switch uses the restored data at
// once, keeps registrations of devices that still exist, drops the others,
// and registers phones whose devices exist in the restored store.
func TestRestoreIntoRunningSwitch(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	client := serve(t, sw.Dir, &control.Local{Store: sw.Store, Reg: sw.Registrar()})
	c := ctx(t)
	for _, ext := range []string{"200", "201"} {
		if _, err := client.AddUser(c, control.UserSpec{Ext: ext, Name: "User " + ext, SIPPassword: "sip-pass-" + ext}); err != nil {
			t.Fatal(err)
		}
	}
	p200 := sw.Phone(t, "200", "sip-pass-200", phonetest.Options{})
	mustStatus(t, 200)(p200.Register(c, 600))
	var backup bytes.Buffer
	if _, err := client.Backup(c, &backup, nil); err != nil {
		t.Fatal(err)
	}

	// After the backup: 201 goes, 203 comes and registers.
	if err := client.RemoveUser(c, "201"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AddUser(c, control.UserSpec{Ext: "203", Name: "Late", SIPPassword: "sip-pass-203"}); err != nil {
		t.Fatal(err)
	}
	p203 := sw.Phone(t, "203", "sip-pass-203", phonetest.Options{})
	mustStatus(t, 200)(p203.Register(c, 600))

	res, err := client.Restore(c, bytes.NewReader(backup.Bytes()), int64(backup.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Live || res.Info.Users != 2 {
		t.Fatalf("restore result %+v", res)
	}
	users, err := client.ListUsers(c)
	if err != nil || len(users) != 2 || users[1].Ext != "201" {
		t.Fatalf("users after restore: %+v, %v", users, err)
	}
	if users[0].Registered != 1 {
		t.Fatalf("200 should still be registered: %+v", users[0])
	}
	if b := sw.Registrar().Lookup("203"); len(b) != 0 {
		t.Fatalf("203 is not in the restored data but stays registered: %+v", b)
	}
	// 201 is back and can register; 203 is gone and cannot.
	p201 := sw.Phone(t, "201", "sip-pass-201", phonetest.Options{})
	mustStatus(t, 200)(p201.Register(c, 600))
	mustStatus(t, 403)(p203.Register(c, 600))
	mustStatus(t, 200)(p200.Register(c, 600))

	// The restored store's saved registrations follow the live ones…
	waitFor(t, "registrations saved", func() bool {
		b, _ := sw.Store.Bindings(time.Now())
		ids := slices.Sorted(func(yield func(string) bool) {
			for id := range b {
				if !yield(id) {
					return
				}
			}
		})
		return slices.Equal(ids, []string{"200", "201"})
	})
	// …so a restart keeps them.
	sw.Restart(t)
	if b := sw.Registrar().Lookup("200"); len(b) != 1 {
		t.Fatalf("200 after restart: %+v", b)
	}
	if b := sw.Registrar().Lookup("203"); len(b) != 0 {
		t.Fatalf("203 after restart: %+v", b)
	}
}
