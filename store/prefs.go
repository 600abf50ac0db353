package store

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Account preferences the provider needs: where the office is for
// emergency calls (E911), and who may change the account.

// EmergencyKey is the setting that holds the EmergencyAddress.
const EmergencyKey = "emergency_address"

// ContactsKey is the setting that holds the AuthorizedContacts.
const ContactsKey = "authorized_contacts"

// MaxAuthorizedContacts bounds the list of authorized contacts.
const MaxAuthorizedContacts = 50

// EmergencyAddress is the office's address, given to responders for an
// emergency call.
type EmergencyAddress struct {
	Organization string `json:"organization"`
	Street       string `json:"street"`
	City         string `json:"city"`
	Region       string `json:"region,omitempty"` // state, province
	PostalCode   string `json:"postal_code"`
	Country      string `json:"country"` // ISO 3166-1 alpha-2, upper case
	Notes        string `json:"notes,omitempty"`
}

// Normalize trims the fields and upper-cases the country.
func (e *EmergencyAddress) Normalize() {
	for _, p := range []*string{&e.Organization, &e.Street, &e.City, &e.Region, &e.PostalCode, &e.Country, &e.Notes} {
		*p = strings.TrimSpace(*p)
	}
	e.Country = strings.ToUpper(e.Country)
}

// Problems checks the address field by field (JSON names); nil when it is right.
func (e EmergencyAddress) Problems() map[string]string {
	probs := map[string]string{}
	text(probs, "organization", e.Organization, true, 100, "Enter the name of the organisation at this address.")
	text(probs, "street", e.Street, true, 200, "Enter the street and number (with floor or suite if any).")
	text(probs, "city", e.City, true, 100, "Enter the city.")
	text(probs, "region", e.Region, false, 100, "")
	text(probs, "postal_code", e.PostalCode, true, 20, "Enter the postal code.")
	if _, ok := probs["country"]; !ok && !(len(e.Country) == 2 && strings.Trim(e.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "") {
		probs["country"] = "Enter the country as its two-letter code, such as US, CA or GB."
	}
	if utf8.RuneCountInString(e.Notes) > 500 || !utf8.ValidString(e.Notes) || strings.ContainsRune(e.Notes, 0) {
		probs["notes"] = "Notes are at most 500 characters."
	}
	if len(probs) == 0 {
		return nil
	}
	return probs
}

// AuthorizedContact is a person allowed to make changes to the account
// with the provider.
type AuthorizedContact struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email,omitempty"`
	Role  string `json:"role,omitempty"` // role or notes
}

// Normalize trims the fields.
func (c *AuthorizedContact) Normalize() {
	for _, p := range []*string{&c.Name, &c.Phone, &c.Email, &c.Role} {
		*p = strings.TrimSpace(*p)
	}
}

// Problems checks the contact field by field (JSON names); nil when it is right.
func (c AuthorizedContact) Problems() map[string]string {
	probs := map[string]string{}
	text(probs, "name", c.Name, true, 100, "Enter the person's name.")
	text(probs, "phone", c.Phone, true, 30, "Enter a phone number the provider can call back.")
	if _, ok := probs["phone"]; !ok && (strings.Trim(c.Phone, "0123456789+-() .x") != "" || !strings.ContainsAny(c.Phone, "0123456789")) {
		probs["phone"] = "A phone number has digits, and may have + - ( ) spaces and x for an extension."
	}
	if err := validEmail(c.Email); err != nil {
		probs["email"] = "This is not an email address, such as name@example.com."
	}
	text(probs, "role", c.Role, false, 200, "")
	if len(probs) == 0 {
		return nil
	}
	return probs
}

// text checks one line of text: required, at most max characters, no
// control characters.
func text(probs map[string]string, field, v string, required bool, max int, missing string) {
	switch {
	case v == "" && required:
		probs[field] = missing
	case utf8.RuneCountInString(v) > max:
		probs[field] = "This is too long: at most " + strconv.Itoa(max) + " characters."
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		probs[field] = "This cannot contain line breaks or control characters."
	}
}

// firstProblem is a problem map as one ErrBadValue error, nil when empty.
func firstProblem(probs map[string]string) error {
	if len(probs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(probs))
	for k := range probs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return BadValue("%s: %s", keys[0], probs[keys[0]])
}

// EmergencyAddress returns the emergency address; ErrNotFound when none is set.
func (s *Store) EmergencyAddress() (EmergencyAddress, error) {
	var e EmergencyAddress
	err := s.Setting(EmergencyKey, &e)
	return e, err
}

// PutEmergencyAddress normalizes, checks and stores the emergency address.
func (s *Store) PutEmergencyAddress(e EmergencyAddress) (EmergencyAddress, error) {
	e.Normalize()
	if err := firstProblem(e.Problems()); err != nil {
		return e, err
	}
	return e, s.PutSetting(EmergencyKey, e)
}

// AuthorizedContacts returns the authorized contacts in the order added
// (an empty list when there are none).
func (s *Store) AuthorizedContacts() ([]AuthorizedContact, error) {
	out := []AuthorizedContact{}
	err := s.Setting(ContactsKey, &out)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return out, err
}

// PutAuthorizedContact normalizes and checks c, then adds it (empty ID:
// a new ID is made) or replaces the contact with its ID (ErrNotFound
// when there is none).
func (s *Store) PutAuthorizedContact(c AuthorizedContact) (AuthorizedContact, error) {
	c.Normalize()
	if err := firstProblem(c.Problems()); err != nil {
		return c, err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		list := []AuthorizedContact{}
		if err := getJSON(b, ContactsKey, &list); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if c.ID == "" {
			if len(list) >= MaxAuthorizedContacts {
				return BadValue("at most %d authorized contacts", MaxAuthorizedContacts)
			}
			c.ID = RandomToken(6)
			list = append(list, c)
		} else {
			i := slices.IndexFunc(list, func(o AuthorizedContact) bool { return o.ID == c.ID })
			if i < 0 {
				return ErrNotFound
			}
			list[i] = c
		}
		return putJSON(b, ContactsKey, list)
	})
	return c, err
}

// RemoveAuthorizedContact removes the contact with id; ErrNotFound when there is none.
func (s *Store) RemoveAuthorizedContact(id string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		list := []AuthorizedContact{}
		if err := getJSON(b, ContactsKey, &list); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		i := slices.IndexFunc(list, func(o AuthorizedContact) bool { return o.ID == id })
		if i < 0 {
			return ErrNotFound
		}
		return putJSON(b, ContactsKey, slices.Delete(list, i, i+1))
	})
}
