package store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// Role is what a login may do.
type Role string

const (
	RoleAdmin Role = "admin" // office manager: the whole organisation
	RoleUser  Role = "user"  // their own calls, phones, voicemail
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is a person (or a system extension such as a queue) with an extension.
type User struct {
	Ext          string    `json:"ext"`
	FirstName    string    `json:"first_name"`
	LastName     string    `json:"last_name"`
	Title        string    `json:"title,omitempty"`
	Department   string    `json:"department,omitempty"`
	Emails       []string  `json:"emails,omitempty"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"` // bcrypt of the web password
	Disabled     bool      `json:"disabled,omitempty"`
	System       bool      `json:"system,omitempty"` // queues, ring groups, attendants
	Created      time.Time `json:"created"`
}

// Name is the display name.
func (u User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// HashPassword returns the bcrypt hash stored for a web password.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether pw matches the user's web password.
func (u User) CheckPassword(pw string) bool {
	return u.PasswordHash != "" && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) == nil
}

// Device is one SIP identity of a user: "200" (primary), "200b", "200c", …
type Device struct {
	ID        string    `json:"id"`
	Ext       string    `json:"ext"`
	HA1MD5    string    `json:"ha1_md5"`    // hex MD5(id:realm:password)
	HA1SHA256 string    `json:"ha1_sha256"` // hex SHA-256(id:realm:password), RFC 8760
	Realm     string    `json:"realm"`
	Disabled  bool      `json:"disabled,omitempty"`
	Created   time.Time `json:"created"`
	Kind      string    `json:"kind,omitempty"` // "" a SIP phone; KindWebphone the browser webphone
}

// KindWebphone marks the device a user's browser webphone registers as.
const KindWebphone = "webphone"

// SetSIPPassword stores the digest secrets for password; the password itself is not kept.
func (d *Device) SetSIPPassword(realm, password string) {
	d.Realm = realm
	a1 := d.ID + ":" + realm + ":" + password
	m := md5.Sum([]byte(a1))
	s := sha256.Sum256([]byte(a1))
	d.HA1MD5 = hex.EncodeToString(m[:])
	d.HA1SHA256 = hex.EncodeToString(s[:])
}

// CreateUser stores a new user together with their first device.
func (s *Store) CreateUser(u User, first Device) error {
	return s.update(func(tx *bolt.Tx) error {
		users, devices := tx.Bucket(bucketUsers), tx.Bucket(bucketDevices)
		if users.Get([]byte(u.Ext)) != nil || devices.Get([]byte(first.ID)) != nil {
			return ErrExists
		}
		if err := putJSON(users, u.Ext, u); err != nil {
			return err
		}
		return putJSON(devices, first.ID, first)
	})
}

// User returns the user with extension ext.
func (s *Store) User(ext string) (User, error) {
	var u User
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketUsers), ext, &u) })
	return u, err
}

// Users returns every user ordered by extension.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := getJSON(tx.Bucket(bucketUsers), string(k), &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return extLess(out[i].Ext, out[j].Ext) })
	return out, err
}

// UpdateUser applies change to the stored user atomically.
func (s *Store) UpdateUser(ext string, change func(*User) error) (User, error) {
	var u User
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if err := getJSON(b, ext, &u); err != nil {
			return err
		}
		if err := change(&u); err != nil {
			return err
		}
		u.Ext = ext
		return putJSON(b, ext, u)
	})
	return u, err
}

// DeleteUser removes a user, their devices and registrations, their call
// handling and their voicemail (settings, messages, greeting).
func (s *Store) DeleteUser(ext string) error {
	return s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
			return ErrNotFound
		}
		ids, err := deviceIDs(tx, ext)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.Bucket(bucketDevices).Delete([]byte(id)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketBindings).Delete([]byte(id)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketHandling).Delete([]byte(ext)); err != nil {
			return err
		}
		if err := deleteVoicemail(tx, ext); err != nil {
			return err
		}
		if err := deleteFavourites(tx, ext); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Delete([]byte(ext))
	})
}

// AddDevice stores a new device for an existing user. next picks the id from
// the ids the user already has, inside the same transaction.
func (s *Store) AddDevice(ext string, next func(existing []string) (Device, error)) (Device, error) {
	var d Device
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
			return ErrNotFound
		}
		ids, err := deviceIDs(tx, ext)
		if err != nil {
			return err
		}
		if d, err = next(ids); err != nil {
			return err
		}
		d.Ext = ext
		if tx.Bucket(bucketDevices).Get([]byte(d.ID)) != nil {
			return ErrExists
		}
		if !ownDeviceID(ext, d.ID) {
			return fmt.Errorf("device id %q: want the extension %s followed by letters", d.ID, ext)
		}
		return putJSON(tx.Bucket(bucketDevices), d.ID, d)
	})
	return d, err
}

// Device returns one device by id ("200b").
func (s *Store) Device(id string) (Device, error) {
	var d Device
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketDevices), id, &d) })
	return d, err
}

// UpdateDevice applies change to the stored device atomically.
func (s *Store) UpdateDevice(id string, change func(*Device) error) (Device, error) {
	var d Device
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDevices)
		if err := getJSON(b, id, &d); err != nil {
			return err
		}
		if err := change(&d); err != nil {
			return err
		}
		d.ID = id
		return putJSON(b, id, d)
	})
	return d, err
}

// Devices returns the devices of ext, or of everyone when ext is "".
//
// For one extension it reads only that extension's devices: a device's id
// is its extension followed by letters ("200", "200b"; AddDevice refuses
// others), so a prefix scan finds them and skips, without decoding, the
// keys of longer extensions ("2000"). Routing calls this for every call.
func (s *Store) Devices(ext string) ([]Device, error) {
	var out []Device
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDevices)
		if ext == "" {
			return b.ForEach(func(k, v []byte) error {
				var d Device
				if err := getJSON(b, string(k), &d); err != nil {
					return err
				}
				out = append(out, d)
				return nil
			})
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(ext)); k != nil && bytes.HasPrefix(k, []byte(ext)); k, v = c.Next() {
			if !ownDeviceID(ext, string(k)) || v == nil {
				continue
			}
			var d Device
			if err := getJSON(b, string(k), &d); err != nil {
				return err
			}
			if d.Ext == ext {
				out = append(out, d)
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return extLess(out[i].ID, out[j].ID) })
	return out, err
}

// ownDeviceID reports whether id has the form of a device id of ext: ext
// itself or ext followed by a non-digit ("200b"), never a longer
// extension ("2000").
func ownDeviceID(ext, id string) bool {
	if !strings.HasPrefix(id, ext) {
		return false
	}
	return len(id) == len(ext) || id[len(ext)] < '0' || id[len(ext)] > '9'
}

// DeleteDevice removes a device and its registrations. The primary device
// (id == ext) goes only with its user.
func (s *Store) DeleteDevice(id string) error {
	return s.update(func(tx *bolt.Tx) error {
		var d Device
		if err := getJSON(tx.Bucket(bucketDevices), id, &d); err != nil {
			return err
		}
		if d.ID == d.Ext {
			return errors.New("the primary device goes only with its user")
		}
		if err := tx.Bucket(bucketBindings).Delete([]byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketDevices).Delete([]byte(id))
	})
}

func deviceIDs(tx *bolt.Tx, ext string) ([]string, error) {
	var ids []string
	// Device ids start with their extension, so a prefix scan finds them.
	c := tx.Bucket(bucketDevices).Cursor()
	for k, _ := c.Seek([]byte(ext)); k != nil && strings.HasPrefix(string(k), ext); k, _ = c.Next() {
		var d Device
		if err := getJSON(tx.Bucket(bucketDevices), string(k), &d); err != nil {
			return nil, err
		}
		if d.Ext == ext {
			ids = append(ids, d.ID)
		}
	}
	return ids, nil
}

// extLess orders "99" before "200" and "200" before "200b".
func extLess(a, b string) bool {
	na, nb := digitPrefix(a), digitPrefix(b)
	if na != nb {
		return na < nb
	}
	return a < b
}

func digitPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// CreateUsers stores many users and their first devices in one transaction:
// all of them, or none if any extension or device id is taken.
func (s *Store) CreateUsers(users []User, devices []Device) error {
	return s.update(func(tx *bolt.Tx) error {
		ub, db := tx.Bucket(bucketUsers), tx.Bucket(bucketDevices)
		for i, u := range users {
			if ub.Get([]byte(u.Ext)) != nil || db.Get([]byte(devices[i].ID)) != nil {
				return ErrExists
			}
			if err := putJSON(ub, u.Ext, u); err != nil {
				return err
			}
			if err := putJSON(db, devices[i].ID, devices[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
