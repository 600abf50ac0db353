package store

import (
	"errors"
	"testing"
)

func TestEmergencyAddressAndContacts(t *testing.T) {
	s := openTest(t)
	if _, err := s.EmergencyAddress(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset address: %v", err)
	}
	if _, err := s.PutEmergencyAddress(EmergencyAddress{Organization: "Acme", Street: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "usa"}); !errors.Is(err, ErrBadValue) {
		t.Fatalf("three-letter country: %v", err)
	}
	e, err := s.PutEmergencyAddress(EmergencyAddress{Organization: " Acme ", Street: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "us"})
	if err != nil || e.Country != "US" || e.Organization != "Acme" {
		t.Fatalf("put: %+v %v", e, err)
	}
	if got, err := s.EmergencyAddress(); err != nil || got != e {
		t.Fatalf("read back: %+v %v", got, err)
	}

	if l, err := s.AuthorizedContacts(); err != nil || len(l) != 0 {
		t.Fatalf("no contacts: %v %v", l, err)
	}
	if _, err := s.PutAuthorizedContact(AuthorizedContact{Name: "Ann", Phone: "call me"}); !errors.Is(err, ErrBadValue) {
		t.Fatalf("bad phone: %v", err)
	}
	a, err := s.PutAuthorizedContact(AuthorizedContact{Name: "Ann", Phone: "+1 555 0100", Email: "ann@example.com"})
	if err != nil || a.ID == "" {
		t.Fatalf("add: %+v %v", a, err)
	}
	b, _ := s.PutAuthorizedContact(AuthorizedContact{Name: "Bob", Phone: "555-0101"})
	a.Role = "Owner"
	if _, err := s.PutAuthorizedContact(a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAuthorizedContact(AuthorizedContact{ID: "nope", Name: "X", Phone: "1"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("edit unknown: %v", err)
	}
	if err := s.RemoveAuthorizedContact(b.ID); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.AuthorizedContacts(); len(l) != 1 || l[0].Role != "Owner" {
		t.Fatalf("after edit and remove: %+v", l)
	}
	if err := s.RemoveAuthorizedContact(b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
}
