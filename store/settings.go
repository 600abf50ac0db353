package store

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Setting reads the JSON value stored under key into v; ErrNotFound if unset.
func (s *Store) Setting(key string, v any) error {
	return s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketSettings), key, v) })
}

// PutSetting stores v as JSON under key.
func (s *Store) PutSetting(key string, v any) error {
	return s.update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketSettings), key, v) })
}

// SettingOrInit returns the stored value of key, or stores and returns init() when unset.
// Used for values created once per installation (SIP realm, secrets).
func SettingOrInit[T any](s *Store, key string, init func() T) (T, error) {
	var v T
	// Most calls find the value: read it without a write transaction (and its fsync).
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketSettings), key, &v) })
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		err := getJSON(b, key, &v)
		if errors.Is(err, ErrNotFound) {
			v = init()
			return putJSON(b, key, v)
		}
		return err
	})
	return v, err
}

// SIPRealm returns the installation's SIP digest realm, created on first use.
// It never changes afterwards: every device's stored digest secret depends on it.
func (s *Store) SIPRealm() (string, error) {
	return SettingOrInit(s, "sip_realm", func() string { return "switchboard" })
}

// NonceSecret returns the key that signs SIP digest nonces, created on first use.
func (s *Store) NonceSecret() ([]byte, error) {
	v, err := SettingOrInit(s, "nonce_secret", func() string { return RandomToken(32) })
	return []byte(v), err
}
