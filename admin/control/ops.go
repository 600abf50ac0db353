// Package control is what the operator can do to a Switchboard data
// directory — users, devices, backup, restore — as one set of operations
// (Ops). Local runs them on an open store; Client runs them through the
// control socket of a running server, which serves them with Handler. The
// CLI picks whichever applies, so every command works with or without a
// running server.
package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"switchboard/store"
)

// Ops are the operator's operations.
type Ops interface {
	AddUser(ctx context.Context, spec UserSpec) (NewUser, error)
	ImportUsers(ctx context.Context, specs []UserSpec) (int, error)
	ListUsers(ctx context.Context) ([]UserView, error)
	SetUser(ctx context.Context, ext string, p UserPatch) (UserView, error)
	RemoveUser(ctx context.Context, ext string) error
	AddDevice(ctx context.Context, ext, sipPassword string) (NewDevice, error)
	ListDevices(ctx context.Context, ext string) ([]DeviceView, error)
	RemoveDevice(ctx context.Context, id string) error
	Backup(ctx context.Context, w io.Writer, size func(int64)) (int64, error)
	Restore(ctx context.Context, r io.Reader, size int64) (RestoreResult, error)
	ListCalls(ctx context.Context, since time.Time, limit int) ([]store.CallRecord, error)

	// Answering rules, do not disturb, forwarding, time frames and the
	// office's time zone (rules.go, local_rules.go).
	CallHandling(ctx context.Context, ext, at string) (HandlingView, error)
	AddRule(ctx context.Context, ext string, spec RuleSpec) (RuleResult, error)
	RemoveRule(ctx context.Context, ext, ref string) (RuleResult, error)
	SetRuleEnabled(ctx context.Context, ext, ref string, enabled bool) (RuleResult, error)
	MoveRule(ctx context.Context, ext, ref string, to int) (RuleResult, error)
	SetDND(ctx context.Context, ext string, on bool) (HandlingView, error)
	SetForward(ctx context.Context, ext, target string) (HandlingView, error)
	ListTimeFrames(ctx context.Context, owner string) ([]TimeFrameView, error)
	AddTimeFrame(ctx context.Context, tf store.TimeFrame) (TimeFrameView, error)
	UpdateTimeFrame(ctx context.Context, tf store.TimeFrame) (TimeFrameView, error)
	RemoveTimeFrame(ctx context.Context, ref string) (TimeFrameView, error)
	TimeZone(ctx context.Context) (TimeZoneView, error)
	SetTimeZone(ctx context.Context, zone string) (TimeZoneView, error)

	// Music on hold (music.go).
	SetMusic(ctx context.Context, up MusicUpload) (MusicView, error)
	ResetMusic(ctx context.Context) (MusicView, error)
	ShowMusic(ctx context.Context) (MusicView, error)
	MusicAudio(ctx context.Context, part string) ([]byte, error)

	// Voicemail settings and messages, SMTP (voicemail.go).
	VoicemailOps
}

// UserSpec describes a user to create. Empty passwords are generated
// (ImportUsers leaves an empty web password unset: no web login yet).
type UserSpec struct {
	Ext         string     `json:"ext"`
	Name        string     `json:"name"`
	Email       string     `json:"email,omitempty"`
	Role        store.Role `json:"role,omitempty"`
	Password    string     `json:"password,omitempty"`
	SIPPassword string     `json:"sip_password,omitempty"`
}

// UserPatch changes the fields that are set.
type UserPatch struct {
	Name        *string     `json:"name,omitempty"`
	Email       *string     `json:"email,omitempty"`
	Role        *store.Role `json:"role,omitempty"`
	Password    *string     `json:"password,omitempty"`
	SIPPassword *string     `json:"sip_password,omitempty"` // of the primary device
	Disabled    *bool       `json:"disabled,omitempty"`
	Department  *string     `json:"department,omitempty"` // "" clears it
}

// UserView is a user as shown to the operator (no secrets).
type UserView struct {
	Ext        string     `json:"ext"`
	Name       string     `json:"name"`
	Email      string     `json:"email,omitempty"`
	Department string     `json:"department,omitempty"`
	Role       store.Role `json:"role"`
	Disabled   bool       `json:"disabled,omitempty"`
	System     bool       `json:"system,omitempty"`
	WebLogin   bool       `json:"web_login"`
	Devices    []string   `json:"devices"`
	Registered int        `json:"registered"` // devices online now (0 without a running server)
}

// NewUser is a created user with the passwords that were generated for it.
type NewUser struct {
	User        UserView `json:"user"`
	Password    string   `json:"password,omitempty"`     // only when generated
	SIPPassword string   `json:"sip_password,omitempty"` // only when generated
}

// DeviceView is a device with its registrations.
type DeviceView struct {
	ID       string          `json:"id"`
	Ext      string          `json:"ext"`
	Disabled bool            `json:"disabled,omitempty"`
	Bindings []store.Binding `json:"bindings,omitempty"`
}

// NewDevice is a created device with its SIP password (only when generated).
type NewDevice struct {
	Device      DeviceView `json:"device"`
	SIPPassword string     `json:"sip_password,omitempty"`
}

// RestoreResult says what was restored and where the replaced file went.
type RestoreResult struct {
	Info     store.Info `json:"info"`
	Previous string     `json:"previous"`
	Live     bool       `json:"live"` // restored into a running server
}

// Error is an operation's failure with the HTTP status that carries it over
// the control socket and the exit code the CLI ends with.
type Error struct {
	Status  int    `json:"status"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// asError maps store sentinels onto operator errors.
func asError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "%s not found", what)
	case errors.Is(err, store.ErrExists):
		return errorf(http.StatusConflict, "%s already exists", what)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrBadValue):
		return errorf(http.StatusBadRequest, "%v", err)
	}
	return err
}

var (
	extPattern    = regexp.MustCompile(`^[1-9][0-9]{1,6}$`)
	deviceSuffix  = "bcdefghijklmnopqrstuvxyz" // w is the webphone's (webphone.go)
	devicePattern = regexp.MustCompile(`^[1-9][0-9]{1,6}[b-z]?$`)
	emailPattern  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

func checkSpec(spec *UserSpec) error {
	spec.Ext = strings.TrimSpace(spec.Ext)
	spec.Name = strings.TrimSpace(spec.Name)
	spec.Email = strings.TrimSpace(spec.Email)
	if !extPattern.MatchString(spec.Ext) {
		return errorf(http.StatusBadRequest, "extension %q must be 2 to 7 digits, not starting with 0", spec.Ext)
	}
	if err := checkUserName(spec.Name); err != nil {
		return err
	}
	if spec.Email != "" && !emailPattern.MatchString(spec.Email) {
		return errorf(http.StatusBadRequest, "email %q is not an email address", spec.Email)
	}
	if spec.Role == "" {
		spec.Role = store.RoleUser
	}
	if !spec.Role.Valid() {
		return errorf(http.StatusBadRequest, "role %q must be admin or user", spec.Role)
	}
	if err := checkWebPassword(spec.Password, true); err != nil {
		return err
	}
	return checkPassword(spec.SIPPassword, true)
}

// maxWebPassword is bcrypt's limit: it refuses longer passwords.
const maxWebPassword = 72

// checkWebPassword checks a web login password, which is stored with bcrypt.
func checkWebPassword(pw string, emptyOK bool) error {
	if err := checkPassword(pw, emptyOK); err != nil {
		return err
	}
	if len(pw) > maxWebPassword {
		return errorf(http.StatusBadRequest, "web passwords can have at most %d bytes", maxWebPassword)
	}
	return nil
}

// CheckUserSpec reports whether AddUser would accept spec, without touching
// any data: the CLI checks its input before it opens (or creates) a store.
func CheckUserSpec(spec UserSpec) error { return checkSpec(&spec) }

// CheckImport reports whether ImportUsers would accept specs, without touching any data.
func CheckImport(specs []UserSpec) error { return checkImport(slices.Clone(specs)) }

// checkImport checks and normalises the specs of an import.
func checkImport(specs []UserSpec) error {
	seen := map[string]bool{}
	for i := range specs {
		spec := &specs[i]
		if err := checkSpec(spec); err != nil {
			return errorf(http.StatusBadRequest, "user %d (%s): %v", i+1, spec.Ext, err)
		}
		if spec.SIPPassword == "" {
			return errorf(http.StatusBadRequest, "user %d (%s): a SIP password is required when importing", i+1, spec.Ext)
		}
		if seen[spec.Ext] {
			return errorf(http.StatusBadRequest, "user %d: extension %s appears twice", i+1, spec.Ext)
		}
		seen[spec.Ext] = true
	}
	return nil
}

// checkUserName checks a person's name. It becomes the caller name phones
// show, so a line break in it must never reach a SIP header.
func checkUserName(name string) error {
	switch {
	case name == "":
		return errorf(http.StatusBadRequest, "a name is required")
	case len(name) > 200:
		return errorf(http.StatusBadRequest, "name is longer than 200 characters")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errorf(http.StatusBadRequest, "a name cannot contain line breaks or control characters")
	}
	return nil
}

func checkPassword(pw string, emptyOK bool) error {
	switch {
	case pw == "" && emptyOK:
		return nil
	case len(pw) < 8:
		return errorf(http.StatusBadRequest, "passwords need at least 8 characters")
	case len(pw) > 128:
		return errorf(http.StatusBadRequest, "passwords can have at most 128 characters")
	case strings.ContainsAny(pw, "\"\\\r\n"):
		return errorf(http.StatusBadRequest, "passwords cannot contain quotes, backslashes or line breaks")
	}
	return nil
}

func splitName(name string) (first, last string) {
	first, last, _ = strings.Cut(strings.TrimSpace(name), " ")
	return first, strings.TrimSpace(last)
}

// GeneratePassword returns a random password of n characters that is easy
// to read out and type on a phone keypad (no 0/O, 1/l/I).
func GeneratePassword(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	const limit = 256 - 256%len(alphabet) // reject bytes that would bias the choice
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // no safe randomness at all
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

func newUserRecord(spec UserSpec, hash string) store.User {
	first, last := splitName(spec.Name)
	u := store.User{Ext: spec.Ext, FirstName: first, LastName: last, Role: spec.Role,
		PasswordHash: hash, Created: time.Now().UTC()}
	if spec.Email != "" {
		u.Emails = []string{spec.Email}
	}
	return u
}
