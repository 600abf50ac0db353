package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// snapshot is every record of a store, for record-for-record comparisons.
type snapshot struct {
	Users    []User
	Devices  []Device
	Settings map[string]string
	Install  string
}

func takeSnapshot(t testing.TB, s *Store) snapshot {
	t.Helper()
	var snap snapshot
	var err error
	if snap.Users, err = s.Users(); err != nil {
		t.Fatal(err)
	}
	if snap.Devices, err = s.Devices(""); err != nil {
		t.Fatal(err)
	}
	snap.Settings = map[string]string{}
	err = s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).ForEach(func(k, v []byte) error {
			snap.Settings[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Install, err = s.InstallID(); err != nil {
		t.Fatal(err)
	}
	return snap
}

// populate fills a store with n users (from 200), every third with a second device, and settings.
func populate(t testing.TB, s *Store, n int) {
	t.Helper()
	var users []User
	var devices []Device
	for i := range n {
		ext := fmt.Sprint(200 + i)
		users, devices = append(users, testUser(ext)), append(devices, testDevice(ext, ext))
	}
	if err := s.CreateUsers(users, devices); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 3 {
		ext := fmt.Sprint(200 + i)
		if _, err := s.AddDevice(ext, nextDevice(ext+"b")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SIPRealm(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting("greeting", map[string]string{"text": "Welcome to Example Ltd"}); err != nil {
		t.Fatal(err)
	}
}

func backupBytes(t testing.TB, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	var size int64
	n, err := s.Backup(&buf, func(n int64) { size = n })
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || size != n {
		t.Fatalf("backup wrote %d bytes, reported %d and announced %d", buf.Len(), n, size)
	}
	return buf.Bytes()
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	src := openTest(t)
	populate(t, src, 50)
	want := takeSnapshot(t, src)
	data := backupBytes(t, src)

	file := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := Validate(file)
	if err != nil {
		t.Fatalf("validate backup: %v", err)
	}
	if info.Users != 50 || info.Devices != 67 || info.SchemaVersion != SchemaVersion() ||
		info.InstallID != want.Install || info.Bytes != int64(len(data)) {
		t.Fatalf("info = %+v", info)
	}

	dir := t.TempDir()
	dst := openTestIn(t, dir)
	mustCreate(t, dst, "999")
	old := takeSnapshot(t, dst)
	got, previous, err := dst.Restore(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got != info {
		t.Fatalf("restore info %+v, validate info %+v", got, info)
	}
	if after := takeSnapshot(t, dst); !reflect.DeepEqual(after, want) {
		t.Fatalf("restored store differs from the source")
	}
	// The replaced store is kept and still holds the old data.
	prev, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	prev.Close()
	if err := os.Rename(previous, filepath.Join(prev.Dir(), FileName)); err != nil {
		t.Fatal(err)
	}
	prev = openTestIn(t, prev.Dir())
	if !reflect.DeepEqual(takeSnapshot(t, prev), old) {
		t.Fatal("the kept previous store does not hold the old data")
	}
	if extra := filesExcept(t, dir, FileName); len(extra) != 0 {
		t.Fatalf("left behind %q", extra)
	}
	// The restored store takes writes.
	mustCreate(t, dst, "998")
}

func TestRestoreKeepsThreePrevious(t *testing.T) {
	src := openTest(t)
	populate(t, src, 3)
	data := backupBytes(t, src)
	dir := t.TempDir()
	dst := openTestIn(t, dir)
	for range 5 {
		if _, _, err := dst.Restore(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(dir, FileName+".before-restore-*"))
	if len(kept) != keepPrevious {
		t.Fatalf("kept %d previous stores, want %d: %q", len(kept), keepPrevious, kept)
	}
}

// damagedBackups returns ways a backup file can be bad, made from a good one.
func damagedBackups(t testing.TB, good []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{
		"empty file":             {},
		"foreign non-bbolt file": []byte(strings.Repeat("PK\x03\x04 this is a zip file, honest\n", 500)),
	}
	garbage := make([]byte, len(good))
	rand.Read(garbage)
	out["random bytes"] = garbage
	for _, cut := range []int{1, 100, 4095, 4096, 8192, 3 * 4096, len(good) / 2, len(good) - 4096, len(good) - 1} {
		out[fmt.Sprintf("truncated at %d of %d", cut, len(good))] = bytes.Clone(good[:cut])
	}
	// Flipped bytes in the middle: in the page header and the element table of
	// the page that holds the users (bbolt has no checksum of its pages).
	page := pageHolding(t, good, []byte(`"first_name":"User"`))
	for _, off := range []int{0, 8, 10, 16, 20, 24, 40} {
		b := bytes.Clone(good)
		b[page*4096+off] ^= 0x5a
		out[fmt.Sprintf("byte %d of page %d flipped", off, page)] = b
	}
	// A flipped byte inside a record: structure intact, data damaged.
	b := bytes.Clone(good)
	at := bytes.Index(b, []byte(`"role":"user"`))
	b[at] = '{'
	out["record damaged"] = b

	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	writeBolt(t, foreign, map[string]map[string][]byte{"widgets": {"a": []byte("1")}})
	out["bbolt file of another program"] = readFile(t, foreign)

	newer := filepath.Join(dir, "newer", FileName)
	s, err := Open(filepath.Dir(newer))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "200")
	s.Close()
	setSchema(t, newer, SchemaVersion()+1)
	out["store of a newer version"] = readFile(t, newer)
	return out
}

// pageHolding returns the number of the first 4 KiB page that contains sub.
func pageHolding(t testing.TB, data, sub []byte) int {
	t.Helper()
	i := bytes.Index(data, sub)
	if i < 0 {
		t.Fatalf("%q not in the file", sub)
	}
	return i / 4096
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	src := openTest(t)
	populate(t, src, 200)
	good := backupBytes(t, src)

	dir := t.TempDir()
	live := openTestIn(t, dir)
	populate(t, live, 20)
	want := takeSnapshot(t, live)
	path := filepath.Join(dir, FileName)
	wantBytes := readFile(t, path)

	for name, bad := range damagedBackups(t, good) {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(file, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Validate(file); !errors.Is(err, ErrInvalid) {
				t.Fatalf("validate: err = %v, want ErrInvalid", err)
			}
			if _, _, err := live.Restore(bytes.NewReader(bad)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("restore: err = %v, want ErrInvalid", err)
			} else {
				t.Logf("refused: %v", err)
			}
			if !bytes.Equal(readFile(t, path), wantBytes) {
				t.Fatal("the live store file changed")
			}
			if got := takeSnapshot(t, live); !reflect.DeepEqual(got, want) {
				t.Fatal("the live store's records changed")
			}
			if extra := filesExcept(t, dir, FileName); len(extra) != 0 {
				t.Fatalf("left behind %q", extra)
			}
		})
	}
	// Still usable.
	mustCreate(t, live, "999")
}

// Random damage anywhere must never crash or hang the process: bbolt reads
// its file through a memory map without bounds checks. Whatever Validate
// accepts must be a store that opens, checks and reads.
func TestValidateSurvivesRandomDamage(t *testing.T) {
	src := openTest(t)
	populate(t, src, 300)
	good := backupBytes(t, src)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SWITCHBOARD_SEED"); v != "" { // replay a failure
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	fmt.Fprintf(os.Stderr, "TestValidateSurvivesRandomDamage: seed %d (replay with SWITCHBOARD_SEED=%d)\n", seed, seed)
	r := mrand.New(mrand.NewPCG(seed, 0))
	iterations := 600
	if testing.Short() {
		iterations = 100
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.db")
	refused, checked := 0, 0
	for i := range iterations {
		b := bytes.Clone(good)
		for range 1 + r.IntN(8) {
			if r.IntN(2) == 0 { // anywhere after the meta pages
				b[2*4096+r.IntN(len(b)-2*4096)] ^= byte(1 + r.IntN(255))
			} else { // headers and element tables, where damage matters most
				b[(2+r.IntN(len(b)/4096-2))*4096+r.IntN(256)] ^= byte(1 + r.IntN(255))
			}
		}
		if r.IntN(10) == 0 {
			b = b[:r.IntN(len(b))]
		}
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Validate(file); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("iteration %d: error without ErrInvalid: %v", i, err)
			}
			refused++
			continue
		}
		if checked < 20 { // accepted: it must really be usable
			checked++
			s := openTestIn(t, t.TempDir())
			if _, _, err := s.Restore(bytes.NewReader(b)); err != nil {
				t.Fatalf("iteration %d: validated file fails to restore: %v", i, err)
			}
			if _, err := s.Users(); err != nil {
				t.Fatalf("iteration %d: validated file fails to read: %v", i, err)
			}
			s.Close()
		}
	}
	t.Logf("%d of %d damaged files refused", refused, iterations)
}

func FuzzValidate(f *testing.F) {
	s, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	populate(f, s, 5)
	var buf bytes.Buffer
	s.Backup(&buf, nil)
	s.Close()
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "in.db")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Validate(file); err != nil {
			return
		}
		st := openTest(t)
		if _, _, err := st.Restore(bytes.NewReader(data)); err != nil {
			t.Fatalf("validated file fails to restore: %v", err)
		}
	})
}

// A backup taken while writers change the store is one consistent point in time.
func TestBackupDuringWrites(t *testing.T) {
	s := openTest(t)
	populate(t, s, 20)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ext := fmt.Sprint(1000 + w*10000 + i)
				if err := s.CreateUser(testUser(ext), testDevice(ext, ext)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	dir := t.TempDir()
	for i := range 5 {
		data := backupBytes(t, s)
		file := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		os.WriteFile(file, data, 0o600)
		info, err := Validate(file)
		if err != nil {
			t.Fatalf("backup %d taken during writes: %v", i, err)
		}
		if info.Users != info.Devices-7 { // every user has its device, plus 7 second devices
			t.Fatalf("backup %d: %d users but %d devices: not one point in time", i, info.Users, info.Devices)
		}
	}
	close(stop)
	wg.Wait()
}

// A restore killed midway leaves its upload; the next Open removes it.
func TestOpenRemovesStaleRestoreUpload(t *testing.T) {
	dir := t.TempDir()
	s := openTestIn(t, dir)
	s.Close()
	stale := filepath.Join(dir, ".restore-12345.db")
	if err := os.WriteFile(stale, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	openTestIn(t, dir)
	if extra := filesExcept(t, dir, FileName); len(extra) != 0 {
		t.Fatalf("left behind %q", extra)
	}
}

// The structure walk accepts every shape a healthy bbolt file takes: values
// on overflow pages, deep trees, nested and inline buckets, a long freelist.
func TestCheckStructureAcceptsHealthyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shapes.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		big, _ := tx.CreateBucket([]byte("big"))
		for i := range 3 {
			if err := big.Put([]byte{byte(i)}, bytes.Repeat([]byte{byte(i)}, 200<<10)); err != nil {
				return err
			}
		}
		many, _ := tx.CreateBucket([]byte("many"))
		for i := range 30000 {
			if err := many.Put(fmt.Appendf(nil, "key-%08d", i), fmt.Appendf(nil, "value-%d", i)); err != nil {
				return err
			}
		}
		b := tx.Bucket([]byte("many"))
		for depth := range 4 { // nested buckets, the small ones inline
			nb, err := b.CreateBucket(fmt.Appendf(nil, "nested-%d", depth))
			if err != nil {
				return err
			}
			nb.Put([]byte("k"), []byte("v"))
			b = nb
		}
		return nil
	})
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error { // free pages
			c := tx.Bucket([]byte("many")).Cursor()
			i := 0
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if v != nil && i%2 == 0 {
					if err := c.Delete(); err != nil {
						return err
					}
				}
				i++
			}
			return tx.Bucket([]byte("big")).Delete([]byte{1})
		})
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStructure(path); err != nil {
		t.Fatalf("healthy file refused: %v", err)
	}

	// And a store whose setting spans overflow pages validates.
	s := openTest(t)
	populate(t, s, 3)
	if err := s.PutSetting("logo", strings.Repeat("x", 300<<10)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b.db")
	os.WriteFile(file, backupBytes(t, s), 0o600)
	if _, err := Validate(file); err != nil {
		t.Fatal(err)
	}
}
