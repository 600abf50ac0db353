package store

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup streams a consistent snapshot of the whole store to w while writers
// go on (one read transaction). size, if not nil, learns the byte count first.
func (s *Store) Backup(w io.Writer, size func(int64)) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Info describes a validated store file.
type Info struct {
	SchemaVersion uint32 `json:"schema_version"`
	InstallID     string `json:"install_id"`
	Users         int    `json:"users"`
	Devices       int    `json:"devices"`
	Bytes         int64  `json:"bytes"`
}

// Validate checks that path is a complete, consistent Switchboard store this
// binary can open: a bbolt file, not truncated, passing the integrity check,
// carrying our marker and a schema version no newer than ours.
func Validate(path string) (info Info, err error) {
	// checkStructure keeps bbolt inside the file; should a damaged file still
	// make bbolt read past its mapping on this goroutine, the fault becomes an
	// error instead of a crash of the whole server.
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: damaged file (%v)", ErrInvalid, r)
			}
		}()
		info, err = validate(path)
	}()
	<-done
	return info, err
}

func validate(path string) (Info, error) {
	var info Info
	st, err := os.Stat(path)
	if err != nil {
		return info, err
	}
	info.Bytes = st.Size()
	if err := checkStructure(path); err != nil {
		return info, fmt.Errorf("%w: damaged or not a bbolt file: %v", ErrInvalid, err)
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return info, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Size() > st.Size() {
			return fmt.Errorf("%w: truncated (%d of %d bytes)", ErrInvalid, st.Size(), tx.Size())
		}
		if err := checkTx(tx); err != nil {
			return fmt.Errorf("%w: integrity check failed: %v", ErrInvalid, err)
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil || string(meta.Get(keyMagic)) != string(magic) {
			return fmt.Errorf("%w: not a switchboard backup", ErrInvalid)
		}
		info.SchemaVersion = readVersion(tx)
		if info.SchemaVersion > SchemaVersion() {
			return fmt.Errorf("%w: schema version %d is newer than this binary's %d (%w)", ErrInvalid, info.SchemaVersion, SchemaVersion(), ErrNewer)
		}
		if name := missingBucket(tx, info.SchemaVersion); name != "" {
			return fmt.Errorf("%w: the %q records are missing (damaged file)", ErrInvalid, name)
		}
		info.InstallID = string(meta.Get(keyInstallID))
		var err error
		if info.Users, err = decodeAll[User](tx, bucketUsers); err != nil {
			return err
		}
		if info.Devices, err = decodeAll[Device](tx, bucketDevices); err != nil {
			return err
		}
		if _, err = decodeAll[[]Binding](tx, bucketBindings); err != nil {
			return err
		}
		if _, err = decodeAll[CallRecord](tx, bucketCalls); err != nil {
			return err
		}
		if _, err = decodeAll[TimeFrame](tx, bucketTimeFrames); err != nil {
			return err
		}
		if _, err = decodeAll[CallHandling](tx, bucketHandling); err != nil {
			return err
		}
		if _, err = decodeAll[Mailbox](tx, bucketMailboxes); err != nil {
			return err
		}
		if err = decodeNested[VoiceMessage](tx, bucketMessages); err != nil {
			return err
		}
		if _, err = decodeAll[Session](tx, bucketSessions); err != nil {
			return err
		}
		_, err = decodeAll[json.RawMessage](tx, bucketSettings)
		return err
	})
	return info, err
}

// decodeAll decodes every record of a bucket as a T and counts them. bbolt
// keeps no checksum of values, so this is what notices damage inside a record.
func decodeAll[T any](tx *bolt.Tx, bucket []byte) (int, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return 0, nil
	}
	n := 0
	err := b.ForEach(func(k, v []byte) error {
		var rec T
		if v == nil {
			return fmt.Errorf("%w: %s/%q is a bucket, not a record", ErrInvalid, bucket, short(k))
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("%w: record %s/%q is damaged: %v", ErrInvalid, bucket, short(k), err)
		}
		n++
		return nil
	})
	return n, err
}

// decodeNested decodes every record of every nested bucket of bucket (one
// per extension) as a T.
func decodeNested[T any](tx *bolt.Tx, bucket []byte) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v != nil {
			return fmt.Errorf("%w: %s/%q is a record, not a bucket", ErrInvalid, bucket, short(k))
		}
		return b.Bucket(k).ForEach(func(mk, mv []byte) error {
			var rec T
			if mv == nil {
				return fmt.Errorf("%w: %s/%q/%x is a bucket, not a record", ErrInvalid, bucket, short(k), short(mk))
			}
			if err := json.Unmarshal(mv, &rec); err != nil {
				return fmt.Errorf("%w: record %s/%q/%x is damaged: %v", ErrInvalid, bucket, short(k), short(mk), err)
			}
			return nil
		})
	})
}

// restoreTempPattern names a restore's upload while it is checked.
const restoreTempPattern = ".restore-*.db"

// short cuts a key from a damaged file down to a length fit for a message.
func short(k []byte) []byte {
	if len(k) > 32 {
		return append(k[:32:32], "…"...)
	}
	return k
}

// keepPrevious is how many replaced store files a restore keeps beside the live one.
const keepPrevious = 3

// Restore replaces the live store with the snapshot read from r. The snapshot
// is written to a temporary file and validated first; only then is it swapped
// in with a rename, and the replaced file is kept as switchboard.db.before-restore-*.
// On any error the live data is untouched. Callers of other methods wait
// while the swap happens.
func (s *Store) Restore(r io.Reader) (info Info, previous string, err error) {
	defer s.refreshSecrets() // whatever happened, the file may have changed
	return s.restore(r)
}

func (s *Store) restore(r io.Reader) (info Info, previous string, err error) {
	tmp, err := os.CreateTemp(s.dir, restoreTempPattern)
	if err != nil {
		return info, "", err
	}
	tmpPath := tmp.Name()
	defer removeIfExists(tmpPath)
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return info, "", fmt.Errorf("receive backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return info, "", err
	}
	if err := tmp.Close(); err != nil {
		return info, "", err
	}
	if info, err = Validate(tmpPath); err != nil {
		return info, "", err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return info, "", errClosed
	}
	previous = fmt.Sprintf("%s.before-restore-%s", s.path, time.Now().UTC().Format("20060102T150405.000000000"))
	if err := s.db.Close(); err != nil {
		return info, "", err
	}
	s.db = nil
	// The live name always names a whole store: the old file gets a second
	// name first, then the new one replaces it in one rename. (Two renames
	// would leave no store at all if the process died between them, and the
	// next start would set up an empty system.)
	if err := os.Link(s.path, previous); err != nil {
		s.db, _ = openDB(s.path)
		return info, "", fmt.Errorf("keep previous store: %w", err)
	}
	if err := os.Rename(tmpPath, s.path); err != nil {
		os.Remove(previous)
		s.db, _ = openDB(s.path)
		return info, "", fmt.Errorf("swap in restored store: %w", err)
	}
	syncDir(s.dir)
	db, err := openDB(s.path)
	if err != nil {
		// Put the old file back: a restore never leaves a half-working system.
		os.Rename(previous, s.path)
		syncDir(s.dir)
		s.db, _ = openDB(s.path)
		return info, "", fmt.Errorf("open restored store: %w", err)
	}
	s.db = db
	pruneOld(s.path + ".before-restore-")
	return info, previous, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// pruneOld keeps the newest keepPrevious files starting with prefix.
func pruneOld(prefix string) {
	matches, _ := filepath.Glob(prefix + "*")
	sort.Strings(matches) // timestamps sort chronologically
	for len(matches) > keepPrevious {
		os.Remove(matches[0])
		matches = matches[1:]
	}
}
