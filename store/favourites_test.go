package store

import (
	"errors"
	"slices"
	"testing"
)

func TestFavourites(t *testing.T) {
	s := openTest(t)
	for _, ext := range []string{"200", "201", "202"} {
		if err := s.CreateUser(testUser(ext), testDevice(ext, ext)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Favourites("200"); err != nil || got != nil {
		t.Fatalf("no favourites yet: %v, %v", got, err)
	}
	s.SetFavourite("200", "202", true)
	s.SetFavourite("200", "201", true)
	got, err := s.SetFavourite("200", "202", true) // twice: once in the list
	if err != nil || !slices.Equal(got, []string{"202", "201"}) {
		t.Fatalf("starred: %v, %v", got, err)
	}
	if _, err := s.SetFavourite("200", "299", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("starring nobody: %v", err)
	}
	if _, err := s.SetFavourite("299", "200", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("favourites of nobody: %v", err)
	}
	if other, _ := s.Favourites("201"); other != nil {
		t.Fatalf("201's favourites: %v", other)
	}
	if err := s.DeleteUser("202"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SetFavourite("200", "202", false); err != nil || !slices.Equal(got, []string{"201"}) {
		t.Fatalf("unstarring a deleted user: %v, %v", got, err)
	}
	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	s.CreateUser(testUser("200"), testDevice("200", "200"))
	if got, _ := s.Favourites("200"); got != nil {
		t.Fatalf("a new user with a deleted user's extension inherits %v", got)
	}
}
