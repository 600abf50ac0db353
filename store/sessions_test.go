package store

import (
	"errors"
	"testing"
	"time"
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
