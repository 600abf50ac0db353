package store

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a web login. The store keeps only a hash of its token, so a
// copy of the store (a backup) cannot be used to take over a login.
type Session struct {
	Ext         string    `json:"ext"`
	CSRF        string    `json:"csrf"` // the token every form and API write must echo
	Created     time.Time `json:"created"`
	LastSeen    time.Time `json:"last_seen"`
	Expires     time.Time `json:"expires"`
	ReauthUntil time.Time `json:"reauth_until,omitempty"` // sensitive settings open until then
	UserAgent   string    `json:"user_agent,omitempty"`
	IP          string    `json:"ip,omitempty"`
}

func sessionKey(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return []byte(hex.EncodeToString(h[:]))
}

// MaxSessionsPerUser is how many web logins one user keeps at once: a new
// one ends the least recently used beyond it, so logging in again and again
// cannot grow the store (or multiply what each login may hold open).
const MaxSessionsPerUser = 20

// CreateSession stores a new session and returns its token (to be put in
// a cookie; it is not kept). In the same transaction it drops expired
// sessions and the user's least recently used ones beyond
// MaxSessionsPerUser.
func (s *Store) CreateSession(sess Session) (token string, err error) {
	token = RandomToken(32)
	err = s.updateNoSecrets(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		type own struct {
			key  []byte
			seen time.Time
		}
		var doomed [][]byte
		var mine []own
		err := b.ForEach(func(k, v []byte) error {
			var old Session
			switch {
			case getJSON(b, string(k), &old) != nil, !sess.Created.Before(old.Expires):
				doomed = append(doomed, k) // unreadable or expired
			case old.Ext == sess.Ext:
				mine = append(mine, own{k, old.LastSeen})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if extra := len(mine) + 1 - MaxSessionsPerUser; extra > 0 {
			slices.SortFunc(mine, func(a, b own) int { return a.seen.Compare(b.seen) })
			for _, o := range mine[:extra] {
				doomed = append(doomed, o.key)
			}
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return putJSON(b, string(sessionKey(token)), sess)
	})
	return token, err
}

// Session returns the session of a token; ErrNotFound when unknown or expired.
func (s *Store) Session(token string, now time.Time) (Session, error) {
	var sess Session
	err := s.view(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketSessions), string(sessionKey(token)), &sess)
	})
	if err == nil && !now.Before(sess.Expires) {
		return Session{}, ErrNotFound
	}
	return sess, err
}

// UpdateSession changes a live session.
func (s *Store) UpdateSession(token string, change func(*Session)) error {
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var sess Session
		if err := getJSON(b, string(sessionKey(token)), &sess); err != nil {
			return err
		}
		change(&sess)
		return putJSON(b, string(sessionKey(token)), sess)
	})
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(token string) error {
	return s.updateNoSecrets(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(sessionKey(token)) })
}

// DeleteSessions ends every session of ext except the one with token keep
// (after a password change) and every expired session; it returns how many
// it removed.
func (s *Store) DeleteSessions(ext, keep string, now time.Time) (int, error) {
	n := 0
	keepKey := string(sessionKey(keep))
	err := s.updateNoSecrets(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var doomed [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var sess Session
			if err := getJSON(b, string(k), &sess); err != nil {
				doomed = append(doomed, k) // unreadable: drop it
				return nil
			}
			if (sess.Ext == ext && string(k) != keepKey) || !now.Before(sess.Expires) {
				doomed = append(doomed, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	return n, err
}
