package control

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"switchboard/store"
)

// Registrations is what a running switch tells about registered devices.
type Registrations interface {
	Lookup(device string) []store.Binding
	All() map[string][]store.Binding
	Remove(device string)
}

// Local runs Ops directly on an open store. Reg, Music and MWI are nil when no
// switch runs.
type Local struct {
	Store *store.Store
	Reg   Registrations
	MWI   MWI
	Music MusicOnHold
	Mail  SMTPTester // sends test emails; nil: none

	musicMu sync.Mutex // one music upload at a time (music.go)
}

var _ Ops = (*Local)(nil)

// maxDepartment bounds a user's department name.
const maxDepartment = 100

func (l *Local) realm() (string, error) { return l.Store.SIPRealm() }

// AddUser creates a user and their primary device (id = extension).
func (l *Local) AddUser(_ context.Context, spec UserSpec) (NewUser, error) {
	if err := checkSpec(&spec); err != nil {
		return NewUser{}, err
	}
	var out NewUser
	if spec.Password == "" {
		spec.Password = GeneratePassword(12)
		out.Password = spec.Password
	}
	if spec.SIPPassword == "" {
		spec.SIPPassword = GeneratePassword(16)
		out.SIPPassword = spec.SIPPassword
	}
	realm, err := l.realm()
	if err != nil {
		return NewUser{}, err
	}
	hash, err := store.HashPassword(spec.Password)
	if err != nil {
		return NewUser{}, err
	}
	u := newUserRecord(spec, hash)
	dev := store.Device{ID: spec.Ext, Ext: spec.Ext, Created: u.Created}
	dev.SetSIPPassword(realm, spec.SIPPassword)
	if err := l.Store.CreateUser(u, dev); err != nil {
		return NewUser{}, asError(err, "extension "+spec.Ext)
	}
	out.User = l.view(u, []string{dev.ID})
	return out, nil
}

// ImportUsers creates many users in one transaction; all or none. Every spec
// needs its SIP password; a missing web password leaves web login off.
func (l *Local) ImportUsers(_ context.Context, specs []UserSpec) (int, error) {
	realm, err := l.realm()
	if err != nil {
		return 0, err
	}
	if err := checkImport(specs); err != nil {
		return 0, err
	}
	users := make([]store.User, 0, len(specs))
	devices := make([]store.Device, 0, len(specs))
	for i := range specs {
		spec := &specs[i]
		hash := ""
		if spec.Password != "" {
			if hash, err = store.HashPassword(spec.Password); err != nil {
				return 0, err
			}
		}
		u := newUserRecord(*spec, hash)
		d := store.Device{ID: spec.Ext, Ext: spec.Ext, Created: u.Created}
		d.SetSIPPassword(realm, spec.SIPPassword)
		users, devices = append(users, u), append(devices, d)
	}
	if err := l.Store.CreateUsers(users, devices); err != nil {
		return 0, asError(err, "an extension in the file")
	}
	return len(users), nil
}

// ListUsers lists every user with their devices.
func (l *Local) ListUsers(context.Context) ([]UserView, error) {
	users, err := l.Store.Users()
	if err != nil {
		return nil, err
	}
	devices, err := l.Store.Devices("")
	if err != nil {
		return nil, err
	}
	byExt := map[string][]string{}
	for _, d := range devices {
		byExt[d.Ext] = append(byExt[d.Ext], d.ID)
	}
	out := make([]UserView, 0, len(users))
	for _, u := range users {
		out = append(out, l.view(u, byExt[u.Ext]))
	}
	return out, nil
}

func (l *Local) view(u store.User, devices []string) UserView {
	v := UserView{Ext: u.Ext, Name: u.Name(), Department: u.Department, Role: u.Role, Disabled: u.Disabled, System: u.System,
		WebLogin: u.PasswordHash != "", Devices: devices}
	if len(u.Emails) > 0 {
		v.Email = u.Emails[0]
	}
	if l.Reg != nil {
		for _, id := range devices {
			if len(l.Reg.Lookup(id)) > 0 {
				v.Registered++
			}
		}
	}
	return v
}

// SetUser changes a user; a new SIP password applies to the primary device.
func (l *Local) SetUser(_ context.Context, ext string, p UserPatch) (UserView, error) {
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		if err := checkUserName(name); err != nil {
			return UserView{}, err
		}
		p.Name = &name
	}
	if p.Email != nil && *p.Email != "" && !emailPattern.MatchString(*p.Email) {
		return UserView{}, errorf(http.StatusBadRequest, "email %q is not an email address", *p.Email)
	}
	if p.Role != nil && !p.Role.Valid() {
		return UserView{}, errorf(http.StatusBadRequest, "role %q must be admin or user", *p.Role)
	}
	if p.Department != nil {
		dep := strings.TrimSpace(*p.Department)
		if len(dep) > maxDepartment || strings.IndexFunc(dep, unicode.IsControl) >= 0 {
			return UserView{}, errorf(http.StatusBadRequest, "a department is at most %d characters, without line breaks", maxDepartment)
		}
		p.Department = &dep
	}
	var hash string
	if p.Password != nil {
		if err := checkWebPassword(*p.Password, false); err != nil {
			return UserView{}, err
		}
		var err error
		if hash, err = store.HashPassword(*p.Password); err != nil {
			return UserView{}, err
		}
	}
	if p.SIPPassword != nil {
		if err := checkPassword(*p.SIPPassword, false); err != nil {
			return UserView{}, err
		}
	}
	u, err := l.Store.UpdateUser(ext, func(u *store.User) error {
		if p.Name != nil {
			u.FirstName, u.LastName = splitName(*p.Name)
		}
		if p.Email != nil {
			u.Emails = nil
			if *p.Email != "" {
				u.Emails = []string{*p.Email}
			}
		}
		if p.Role != nil {
			u.Role = *p.Role
		}
		if hash != "" {
			u.PasswordHash = hash
		}
		if p.Disabled != nil {
			u.Disabled = *p.Disabled
		}
		if p.Department != nil {
			u.Department = *p.Department
		}
		return nil
	})
	if err != nil {
		return UserView{}, asError(err, "extension "+ext)
	}
	if p.SIPPassword != nil {
		if err := l.setDevicePassword(ext, *p.SIPPassword); err != nil {
			return UserView{}, err
		}
	}
	devices, err := l.Store.Devices(ext)
	if err != nil {
		return UserView{}, err
	}
	ids := make([]string, len(devices))
	for i, d := range devices {
		ids[i] = d.ID
	}
	if u.Disabled && l.Reg != nil {
		for _, id := range ids {
			l.Reg.Remove(id)
		}
	}
	return l.view(u, ids), nil
}

func (l *Local) setDevicePassword(id, pw string) error {
	realm, err := l.realm()
	if err != nil {
		return err
	}
	_, err = l.Store.UpdateDevice(id, func(d *store.Device) error {
		d.SetSIPPassword(realm, pw)
		return nil
	})
	return asError(err, "device "+id)
}

// RemoveUser deletes a user with their devices and drops their registrations.
func (l *Local) RemoveUser(_ context.Context, ext string) error {
	devices, err := l.Store.Devices(ext)
	if err != nil {
		return err
	}
	if err := l.Store.DeleteUser(ext); err != nil {
		return asError(err, "extension "+ext)
	}
	if l.Reg != nil {
		for _, d := range devices {
			l.Reg.Remove(d.ID)
		}
	}
	return nil
}

// AddDevice adds the next device (200b, 200c, …) to a user.
func (l *Local) AddDevice(_ context.Context, ext, sipPassword string) (NewDevice, error) {
	if err := checkPassword(sipPassword, true); err != nil {
		return NewDevice{}, err
	}
	var out NewDevice
	if sipPassword == "" {
		sipPassword = GeneratePassword(16)
		out.SIPPassword = sipPassword
	}
	realm, err := l.realm()
	if err != nil {
		return NewDevice{}, err
	}
	d, err := l.Store.AddDevice(ext, func(existing []string) (store.Device, error) {
		for _, suffix := range deviceSuffix {
			id := ext + string(suffix)
			if !slices.Contains(existing, id) {
				d := store.Device{ID: id, Ext: ext, Created: time.Now().UTC()}
				d.SetSIPPassword(realm, sipPassword)
				return d, nil
			}
		}
		return store.Device{}, errorf(http.StatusConflict, "extension %s already has the most devices (%d)", ext, len(deviceSuffix)+1)
	})
	if err != nil {
		return NewDevice{}, asError(err, "extension "+ext)
	}
	out.Device = DeviceView{ID: d.ID, Ext: d.Ext}
	return out, nil
}

// ListDevices lists the devices of ext (all when ext is "") with their registrations.
func (l *Local) ListDevices(_ context.Context, ext string) ([]DeviceView, error) {
	if ext != "" {
		if _, err := l.Store.User(ext); err != nil {
			return nil, asError(err, "extension "+ext)
		}
	}
	devices, err := l.Store.Devices(ext)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceView, 0, len(devices))
	for _, d := range devices {
		v := DeviceView{ID: d.ID, Ext: d.Ext, Disabled: d.Disabled}
		if l.Reg != nil {
			v.Bindings = l.Reg.Lookup(d.ID)
		}
		out = append(out, v)
	}
	return out, nil
}

// RemoveDevice deletes a secondary device and drops its registrations.
func (l *Local) RemoveDevice(_ context.Context, id string) error {
	if !devicePattern.MatchString(id) {
		return errorf(http.StatusBadRequest, "device %q is not a device id such as 200b", id)
	}
	d, err := l.Store.Device(id)
	if err != nil {
		return asError(err, "device "+id)
	}
	if d.ID == d.Ext {
		return errorf(http.StatusBadRequest, "device %s is the primary device of extension %s: remove the user instead", id, d.Ext)
	}
	if err := l.Store.DeleteDevice(id); err != nil {
		return asError(err, "device "+id)
	}
	if l.Reg != nil {
		l.Reg.Remove(id)
	}
	return nil
}

// Backup writes a consistent snapshot of the store.
func (l *Local) Backup(_ context.Context, w io.Writer, size func(int64)) (int64, error) {
	return l.Store.Backup(w, size)
}

// Restore validates the snapshot and swaps it in. A running switch keeps the
// registrations of devices the restored data still has, and drops the rest.
func (l *Local) Restore(_ context.Context, r io.Reader, _ int64) (RestoreResult, error) {
	info, prev, err := l.Store.Restore(r)
	if err != nil {
		return RestoreResult{}, asError(err, "backup")
	}
	if l.Reg != nil {
		if err := l.reconcileRegistrations(); err != nil {
			return RestoreResult{}, fmt.Errorf("restored, but registrations not reconciled: %w", err)
		}
	}
	if _, err := l.applyMusic(); err != nil {
		return RestoreResult{}, fmt.Errorf("restored, but the restored music on hold not played: %w", err)
	}
	return RestoreResult{Info: info, Previous: prev, Live: l.Reg != nil}, nil
}

// reconcileRegistrations makes the switch's live registrations and the
// restored store agree: a device that is gone or disabled in the restored
// data is unregistered; the others stay registered, and the store's saved
// registrations become the live ones (not those of the backup's time).
func (l *Local) reconcileRegistrations() error {
	devices, err := l.Store.Devices("")
	if err != nil {
		return err
	}
	users, err := l.Store.Users()
	if err != nil {
		return err
	}
	disabledUser := map[string]bool{}
	for _, u := range users {
		disabledUser[u.Ext] = u.Disabled
	}
	usable := map[string]bool{}
	for _, d := range devices {
		usable[d.ID] = !d.Disabled && !disabledUser[d.Ext]
	}
	saved, err := l.Store.Bindings(time.Now())
	if err != nil {
		return err
	}
	batch := map[string][]store.Binding{}
	for id := range saved {
		batch[id] = nil
	}
	for id, list := range l.Reg.All() {
		if usable[id] {
			batch[id] = list
		} else {
			l.Reg.Remove(id)
		}
	}
	return l.Store.SaveBindings(batch)
}

// ListCalls returns call records that started since, newest first.
func (l *Local) ListCalls(_ context.Context, since time.Time, limit int) ([]store.CallRecord, error) {
	return l.Store.Calls(since, time.Time{}, limit)
}
