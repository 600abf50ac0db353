package store

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSessions(t *testing.T) {
	s := openTest(t)
	now := time.Now()
	tok, err := s.CreateSession(Session{Ext: "200", CSRF: "c", Created: now, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.CreateSession(Session{Ext: "200", Expires: now.Add(time.Hour)})
	old, _ := s.CreateSession(Session{Ext: "201", Expires: now.Add(-time.Second)})
	if got, err := s.Session(tok, now); err != nil || got.Ext != "200" || got.CSRF != "c" {
		t.Fatalf("session = %+v, %v", got, err)
	}
	if _, err := s.Session(old, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := s.Session("guess", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := s.UpdateSession(tok, func(x *Session) { x.ReauthUntil = now.Add(5 * time.Minute) }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSessions("200", tok, now); err != nil || n != 2 {
		t.Fatalf("DeleteSessions = %d, %v; want the other 200 session and the expired one", n, err)
	}
	if _, err := s.Session(other, now); !errors.Is(err, ErrNotFound) {
		t.Fatal("the other session survived")
	}
	if got, err := s.Session(tok, now); err != nil || got.ReauthUntil.IsZero() {
		t.Fatalf("kept session = %+v, %v", got, err)
	}
	if err := s.DeleteSession(tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(tok, now); !errors.Is(err, ErrNotFound) {
		t.Fatal("logged-out session still valid")
	}
}

// Logging in again and again keeps a user's most recently used sessions
// only; another user's, and no expired one, are touched.
func TestSessionsPerUserAreBounded(t *testing.T) {
	s := openTest(t)
	now := time.Now()
	bob, _ := s.CreateSession(Session{Ext: "201", Created: now, LastSeen: now, Expires: now.Add(time.Hour)})
	expired, _ := s.CreateSession(Session{Ext: "202", Created: now, Expires: now.Add(time.Millisecond)})
	var toks []string
	for i := range MaxSessionsPerUser + 5 {
		seen := now.Add(time.Duration(i) * time.Second)
		tok, err := s.CreateSession(Session{Ext: "200", Created: now.Add(time.Second), LastSeen: seen, Expires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for i, tok := range toks {
		_, err := s.Session(tok, now)
		if gone := errors.Is(err, ErrNotFound); gone != (i < 5) {
			t.Errorf("session %d: %v", i, err)
		}
	}
	if _, err := s.Session(bob, now); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	n := 0
	s.view(func(tx *bolt.Tx) error { n = tx.Bucket(bucketSessions).Stats().KeyN; return nil })
	if n != MaxSessionsPerUser+1 {
		t.Errorf("%d sessions stored, want %d (the expired one %s dropped)", n, MaxSessionsPerUser+1, expired[:4])
	}
}
