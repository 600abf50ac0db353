package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// Mailbox is a user's voicemail settings. A user who never changed them has
// no record and gets DefaultMailbox.
type Mailbox struct {
	Ext     string `json:"ext"`
	PINHash string `json:"pin_hash,omitempty"` // bcrypt of the PIN; "" = no PIN, no login from other phones
	// Email, when set, receives every new message.
	Email      string `json:"email,omitempty"`
	EmailAudio bool   `json:"email_audio"` // attach the recording as a WAV file
	// KeepAfterEmail keeps an emailed message in the box; false deletes it
	// once the email is sent (never when sending failed).
	KeepAfterEmail bool      `json:"keep_after_email"`
	FailedPINs     int       `json:"failed_pins,omitempty"`     // wrong PINs in a row
	LockedUntil    time.Time `json:"locked_until,omitzero"`     // no PIN login before this
	CustomGreeting bool      `json:"custom_greeting,omitempty"` // a greeting blob is stored
}

// HasPIN reports whether a PIN is set.
func (m Mailbox) HasPIN() bool { return m.PINHash != "" }

// DefaultMailbox is the mailbox of a user who set nothing: messages stay in
// the box, no email, no PIN, the default greeting.
func DefaultMailbox(ext string) Mailbox {
	return Mailbox{Ext: ext, EmailAudio: true, KeepAfterEmail: true}
}

// PIN lockout: after MaxFailedPINs wrong PINs in a row the box refuses
// every PIN for PINLockout. The count is stored, so a restart does not reset it.
const (
	MaxFailedPINs = 5
	PINLockout    = 15 * time.Minute
)

// Limits of what a mailbox stores.
const (
	MaxGreetingBytes = 8000 * 5 * 60  // five minutes of 8 kHz μ-law
	MaxMessageBytes  = 8000 * 30 * 60 // thirty minutes
)

// ErrNoPIN is CheckMailboxPIN's answer for a box without a PIN. Callers
// facing the caller treat it exactly like a wrong PIN.
var ErrNoPIN = errors.New("mailbox has no PIN")

// dummyPINHash is compared against when there is no real hash, so that an
// unknown box or one without a PIN costs the same time as a wrong PIN.
var dummyPINHash, _ = bcrypt.GenerateFromPassword([]byte("no-pin-here"), bcrypt.DefaultCost)

// Mailbox returns ext's voicemail settings (DefaultMailbox when unset);
// ErrNotFound when there is no such user.
func (s *Store) Mailbox(ext string) (Mailbox, error) {
	var m Mailbox
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		m, err = mailboxTx(tx, ext)
		return err
	})
	return m, err
}

func mailboxTx(tx *bolt.Tx, ext string) (Mailbox, error) {
	if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
		return Mailbox{}, ErrNotFound
	}
	m := DefaultMailbox(ext)
	if err := getJSON(tx.Bucket(bucketMailboxes), ext, &m); err != nil && !errors.Is(err, ErrNotFound) {
		return Mailbox{}, err
	}
	m.Ext = ext
	return m, nil
}

// UpdateMailbox applies change to ext's mailbox atomically; the user must exist.
func (s *Store) UpdateMailbox(ext string, change func(*Mailbox) error) (Mailbox, error) {
	var m Mailbox
	err := s.updateNoSecrets(func(tx *bolt.Tx) error {
		var err error
		if m, err = mailboxTx(tx, ext); err != nil {
			return err
		}
		if err := change(&m); err != nil {
			return err
		}
		m.Ext = ext
		if err := validEmail(m.Email); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketMailboxes), ext, m)
	})
	return m, err
}

// validEmail accepts "" or one bare address (no display name, no line breaks:
// it ends up in SMTP commands and mail headers).
func validEmail(addr string) error {
	if addr == "" {
		return nil
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" || strings.ContainsAny(addr, "\r\n<> ") ||
		!strings.Contains(addr[strings.IndexByte(addr, '@')+1:], ".") || len(addr) > 254 {
		return BadValue("email %q is not an email address", addr)
	}
	return nil
}

// ValidPIN checks a voicemail PIN: 4 to 10 digits.
func ValidPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 10 || strings.Trim(pin, "0123456789") != "" {
		return BadValue("a voicemail PIN is 4 to 10 digits")
	}
	return nil
}

// SetMailboxPIN sets ext's PIN (4–10 digits) and lifts any lockout.
func (s *Store) SetMailboxPIN(ext, pin string) error {
	if err := ValidPIN(pin); err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = s.UpdateMailbox(ext, func(m *Mailbox) error {
		m.PINHash, m.FailedPINs, m.LockedUntil = string(h), 0, time.Time{}
		return nil
	})
	return err
}

// CheckMailboxPIN checks a PIN typed for ext's box at now. A locked box
// refuses every PIN until lockedUntil; the MaxFailedPINs-th wrong PIN in a
// row locks it for PINLockout; a right one resets the count. A box without
// a PIN gives ErrNoPIN (and counts as a failure); an unknown extension
// gives ErrNotFound. Both take as long as a wrong PIN, so that a caller
// cannot tell them apart by time; the IVR also makes them sound the same.
func (s *Store) CheckMailboxPIN(ext, pin string, now time.Time) (ok bool, lockedUntil time.Time, err error) {
	m, err := s.Mailbox(ext)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyPINHash, []byte(pin))
		return false, time.Time{}, ErrNotFound
	}
	if err != nil {
		return false, time.Time{}, err
	}
	if now.Before(m.LockedUntil) {
		return false, m.LockedUntil, nil
	}
	// The slow comparison runs outside the write transaction.
	hash := []byte(m.PINHash)
	if len(hash) == 0 {
		hash = dummyPINHash
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(pin)) == nil && m.PINHash != ""
	m, err = s.UpdateMailbox(ext, func(m *Mailbox) error {
		if !m.LockedUntil.IsZero() && !now.Before(m.LockedUntil) {
			m.FailedPINs, m.LockedUntil = 0, time.Time{} // the lock ran out: a fresh start
		}
		if now.Before(m.LockedUntil) { // locked meanwhile by another caller
			match = false
			return nil
		}
		if match && m.PINHash == string(hash) {
			m.FailedPINs = 0
			return nil
		}
		match = false
		m.FailedPINs++
		if m.FailedPINs >= MaxFailedPINs {
			m.LockedUntil = now.Add(PINLockout)
		}
		return nil
	})
	switch {
	case err != nil:
		return false, time.Time{}, err
	case match:
		return true, time.Time{}, nil
	case now.Before(m.LockedUntil):
		lockedUntil = m.LockedUntil
	}
	if m.PINHash == "" {
		return false, lockedUntil, ErrNoPIN
	}
	return false, lockedUntil, nil
}

// VoiceMessage is one voicemail message; its audio is stored apart.
type VoiceMessage struct {
	ID         string        `json:"id"`
	Ext        string        `json:"ext"`
	Caller     string        `json:"caller"` // extension or number
	CallerName string        `json:"caller_name,omitempty"`
	Time       time.Time     `json:"time"`
	Duration   time.Duration `json:"duration"`
	Read       bool          `json:"read,omitempty"`
	CallID     string        `json:"call_id,omitempty"`
}

// messageKey orders a box's messages by time: 8 bytes of big-endian Unix
// nanoseconds, then the id.
func messageKey(m VoiceMessage) []byte {
	k := make([]byte, 8, 8+len(m.ID))
	binary.BigEndian.PutUint64(k, uint64(m.Time.UnixNano()))
	return append(k, m.ID...)
}

func messageAudioKey(ext, id string) []byte { return []byte("vm/" + ext + "/" + id) }
func greetingKey(ext string) []byte         { return []byte("greeting/" + ext) }

// SaveMessage stores a new message in msg.Ext's box with its 8 kHz μ-law
// audio; it fills in the id and, when zero, the time. ErrNotFound when
// there is no such user.
func (s *Store) SaveMessage(msg VoiceMessage, audio []byte) (VoiceMessage, error) {
	if len(audio) > MaxMessageBytes {
		return VoiceMessage{}, BadValue("a message can be at most %s long", time.Duration(MaxMessageBytes/8)*time.Millisecond)
	}
	msg.ID = RandomToken(6)
	if msg.Time.IsZero() {
		msg.Time = time.Now()
	}
	msg.Time = msg.Time.UTC()
	err := s.updateNoSecrets(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(msg.Ext)) == nil {
			return ErrNotFound
		}
		box, err := tx.Bucket(bucketMessages).CreateBucketIfNotExists([]byte(msg.Ext))
		if err != nil {
			return err
		}
		if err := box.Put(messageKey(msg), mustJSON(msg)); err != nil {
			return err
		}
		return tx.Bucket(bucketAudio).Put(messageAudioKey(msg.Ext, msg.ID), audio)
	})
	if err != nil {
		return VoiceMessage{}, err
	}
	return msg, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own plain structs always encode
	}
	return b
}

// Messages returns ext's messages, newest first; ErrNotFound for no such user.
func (s *Store) Messages(ext string) ([]VoiceMessage, error) {
	var out []VoiceMessage
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(ext)) == nil {
			return ErrNotFound
		}
		box := tx.Bucket(bucketMessages).Bucket([]byte(ext))
		if box == nil {
			return nil
		}
		c := box.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var m VoiceMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode message %s/%x: %w", ext, k, err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// MessageCounts returns how many of ext's messages are unread and read.
func (s *Store) MessageCounts(ext string) (unread, read int, err error) {
	msgs, err := s.Messages(ext)
	for _, m := range msgs {
		if m.Read {
			read++
		} else {
			unread++
		}
	}
	return unread, read, err
}

// findMessage returns the key and record of message id in ext's box.
func findMessage(tx *bolt.Tx, ext, id string) (*bolt.Bucket, []byte, VoiceMessage, error) {
	var m VoiceMessage
	box := tx.Bucket(bucketMessages).Bucket([]byte(ext))
	if box == nil || id == "" {
		return nil, nil, m, ErrNotFound
	}
	c := box.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) == 8+len(id) && string(k[8:]) == id {
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, nil, m, fmt.Errorf("decode message %s/%s: %w", ext, id, err)
			}
			return box, k, m, nil
		}
	}
	return nil, nil, m, ErrNotFound
}

// Message returns one message of ext's box.
func (s *Store) Message(ext, id string) (VoiceMessage, error) {
	var m VoiceMessage
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		_, _, m, err = findMessage(tx, ext, id)
		return err
	})
	return m, err
}

// MessageAudio returns the 8 kHz μ-law audio of a message.
func (s *Store) MessageAudio(ext, id string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if _, _, _, err := findMessage(tx, ext, id); err != nil {
			return err
		}
		out = bytes.Clone(tx.Bucket(bucketAudio).Get(messageAudioKey(ext, id)))
		return nil
	})
	return out, err
}

// SetMessageRead marks a message read (saved) or unread (new).
func (s *Store) SetMessageRead(ext, id string, read bool) error {
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		box, k, m, err := findMessage(tx, ext, id)
		if err != nil {
			return err
		}
		if m.Read == read {
			return nil
		}
		m.Read = read
		return box.Put(k, mustJSON(m))
	})
}

// DeleteMessage removes a message and its audio.
func (s *Store) DeleteMessage(ext, id string) error {
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		box, k, _, err := findMessage(tx, ext, id)
		if err != nil {
			return err
		}
		if err := box.Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketAudio).Delete(messageAudioKey(ext, id))
	})
}

// Greeting returns ext's own greeting (8 kHz μ-law); ErrNotFound when the
// box uses the default one.
func (s *Store) Greeting(ext string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAudio).Get(greetingKey(ext))
		if v == nil {
			return ErrNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// PutGreeting stores ext's own greeting (8 kHz μ-law).
func (s *Store) PutGreeting(ext string, ulaw []byte) error {
	if len(ulaw) == 0 {
		return BadValue("a greeting cannot be empty")
	}
	if len(ulaw) > MaxGreetingBytes {
		return BadValue("a greeting can be at most %s long", time.Duration(MaxGreetingBytes/8)*time.Millisecond)
	}
	return s.setGreeting(ext, ulaw)
}

// DeleteGreeting goes back to the default greeting.
func (s *Store) DeleteGreeting(ext string) error { return s.setGreeting(ext, nil) }

func (s *Store) setGreeting(ext string, ulaw []byte) error {
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		m, err := mailboxTx(tx, ext)
		if err != nil {
			return err
		}
		m.CustomGreeting = ulaw != nil
		if ulaw == nil {
			err = tx.Bucket(bucketAudio).Delete(greetingKey(ext))
		} else {
			err = tx.Bucket(bucketAudio).Put(greetingKey(ext), ulaw)
		}
		if err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketMailboxes), ext, m)
	})
}

// deleteVoicemail removes ext's mailbox, messages and greeting (DeleteUser).
func deleteVoicemail(tx *bolt.Tx, ext string) error {
	if err := tx.Bucket(bucketMailboxes).Delete([]byte(ext)); err != nil {
		return err
	}
	if tx.Bucket(bucketMessages).Bucket([]byte(ext)) != nil {
		if err := tx.Bucket(bucketMessages).DeleteBucket([]byte(ext)); err != nil {
			return err
		}
	}
	audio := tx.Bucket(bucketAudio)
	prefix := []byte("vm/" + ext + "/")
	var keys [][]byte
	c := audio.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := audio.Delete(k); err != nil {
			return err
		}
	}
	return audio.Delete(greetingKey(ext))
}
