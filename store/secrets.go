package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DigestSecrets are what the switch needs to check a device's SIP digest
// credentials: the stored HA1 values, never a password.
type DigestSecrets struct {
	HA1MD5    string
	HA1SHA256 string
}

// secretsTable is an immutable snapshot of the secrets of every device that
// may register, taken at one generation of the store.
type secretsTable struct {
	gen  uint64
	byID map[string]DigestSecrets
}

// DeviceSecrets returns the digest secrets of device id. ok is false when
// the device does not exist, is disabled, or belongs to a disabled user:
// all three look the same to a caller, as they must to a phone.
//
// It answers from memory, without a read transaction or a JSON decode per
// REGISTER: a snapshot of all devices, taken on first use and again after
// any write that may have changed users or devices (every write except the
// registrar's binding flushes). Known and unknown ids cost the same map
// lookup, so timing does not tell which extensions exist.
func (s *Store) DeviceSecrets(id string) (DigestSecrets, bool) {
	t, err := s.secretsSnapshot()
	if err != nil {
		return DigestSecrets{}, false
	}
	sec, ok := t.byID[id]
	return sec, ok
}

func (s *Store) secretsSnapshot() (*secretsTable, error) {
	if t := s.secrets.Load(); t != nil && t.gen == s.gen.Load() {
		return t, nil
	}
	s.secretsMu.Lock() // one reload at a time; the others wait for its result
	defer s.secretsMu.Unlock()
	gen := s.gen.Load() // before reading: a write after this makes the snapshot stale at once
	if t := s.secrets.Load(); t != nil && t.gen == gen {
		return t, nil
	}
	t := &secretsTable{gen: gen}
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		t.byID, err = loadSecrets(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.secrets.Store(t)
	return t, nil
}

// loadSecrets reads the secrets of every enabled device of an enabled user.
func loadSecrets(tx *bolt.Tx) (map[string]DigestSecrets, error) {
	disabled := map[string]bool{}
	err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		var u struct {
			Disabled bool `json:"disabled"`
		}
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode user %q: %w", k, err)
		}
		if u.Disabled {
			disabled[string(k)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	devices := tx.Bucket(bucketDevices)
	out := make(map[string]DigestSecrets, devices.Stats().KeyN)
	err = devices.ForEach(func(k, v []byte) error {
		var d Device
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode device %q: %w", k, err)
		}
		if d.Disabled || disabled[d.Ext] || tx.Bucket(bucketUsers).Get([]byte(d.Ext)) == nil {
			return nil
		}
		out[string(k)] = DigestSecrets{HA1MD5: d.HA1MD5, HA1SHA256: d.HA1SHA256}
		return nil
	})
	return out, err
}
