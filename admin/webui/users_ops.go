package webui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// The office manager's operations on users and devices, shared by the
// pages and the API. Validation is admin/control's (the CLI's rules); here
// its messages are tied to the form field they are about.

// specProblems checks each field of a new user on its own, by the rules of
// control.CheckUserSpec, so every wrong field gets its own message.
func specProblems(spec control.UserSpec) map[string]string {
	probs := map[string]string{}
	base := control.UserSpec{Ext: "99", Name: "x"}
	check := func(field string, change func(*control.UserSpec)) {
		s := base
		change(&s)
		if err := control.CheckUserSpec(s); err != nil {
			probs[field] = sentence(err.Error())
		}
	}
	check("ext", func(s *control.UserSpec) { s.Ext = spec.Ext })
	check("name", func(s *control.UserSpec) { s.Name = spec.Name })
	check("email", func(s *control.UserSpec) { s.Email = spec.Email })
	check("role", func(s *control.UserSpec) { s.Role = spec.Role })
	check("password", func(s *control.UserSpec) { s.Password = spec.Password })
	check("sip_password", func(s *control.UserSpec) { s.SIPPassword = spec.SIPPassword })
	if strings.TrimSpace(spec.Ext) == "" {
		probs["ext"] = "Enter an extension."
	}
	if strings.TrimSpace(spec.Name) == "" {
		probs["name"] = "Enter the person's name."
	}
	return probs
}

func (a *App) createUser(ctx context.Context, spec control.UserSpec) (control.NewUser, error) {
	spec.Ext, spec.Name, spec.Email = strings.TrimSpace(spec.Ext), strings.TrimSpace(spec.Name), strings.TrimSpace(spec.Email)
	if probs := specProblems(spec); len(probs) > 0 {
		return control.NewUser{}, invalid(probs)
	}
	nu, err := a.cfg.Ops.AddUser(ctx, spec)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusConflict {
		return control.NewUser{}, invalid(map[string]string{"ext": "Extension " + spec.Ext + " is already taken."})
	}
	if err == nil {
		a.log.Info("web: user created", "ext", spec.Ext)
	}
	return nu, err
}

// userEdit is what the edit form (or PATCH) changes.
type userEdit struct {
	Name       *string     `json:"name,omitempty"`
	Email      *string     `json:"email,omitempty"`
	Role       *store.Role `json:"role,omitempty"`
	Disabled   *bool       `json:"disabled,omitempty"`
	Department *string     `json:"department,omitempty"`
}

func (a *App) updateUser(ctx context.Context, l *webauth.Login, ext string, ed userEdit) (control.UserView, error) {
	probs := map[string]string{}
	check := func(field string, s control.UserSpec) {
		if err := control.CheckUserSpec(s); err != nil {
			probs[field] = sentence(err.Error())
		}
	}
	if ed.Name != nil {
		*ed.Name = strings.TrimSpace(*ed.Name)
		check("name", control.UserSpec{Ext: "99", Name: *ed.Name})
		if *ed.Name == "" {
			probs["name"] = "Enter the person's name."
		}
	}
	if ed.Email != nil {
		*ed.Email = strings.TrimSpace(*ed.Email)
		check("email", control.UserSpec{Ext: "99", Name: "x", Email: *ed.Email})
	}
	if ed.Department != nil {
		*ed.Department = strings.TrimSpace(*ed.Department)
		if len(*ed.Department) > 100 || strings.ContainsAny(*ed.Department, "\r\n\t") {
			probs["department"] = "A department is at most 100 characters on one line."
		}
	}
	if ed.Role != nil {
		check("role", control.UserSpec{Ext: "99", Name: "x", Role: *ed.Role})
		if *ed.Role == "" {
			probs["role"] = "Choose a role."
		}
	}
	if ext == l.User.Ext {
		if ed.Role != nil && *ed.Role != store.RoleAdmin {
			probs["role"] = "You cannot take away your own office-manager role; another office manager can."
		}
		if ed.Disabled != nil && *ed.Disabled {
			probs["disabled"] = "You cannot disable your own account."
		}
	}
	if len(probs) > 0 {
		return control.UserView{}, invalid(probs)
	}
	if err := a.checkPerson(ext); err != nil {
		return control.UserView{}, err
	}
	v, err := a.cfg.Ops.SetUser(ctx, ext, control.UserPatch{Name: ed.Name, Email: ed.Email, Role: ed.Role, Disabled: ed.Disabled,
		Department: ed.Department})
	if err != nil {
		return v, err
	}
	if v.Disabled {
		a.cfg.Auth.EndOtherSessions(ext, "")
	}
	a.log.Info("web: user changed", "ext", ext, "by", l.User.Ext)
	return v, nil
}

// checkPerson refuses extensions that are not a user's own (a system user
// such as a queue belongs to its own pages).
func (a *App) checkPerson(ext string) error {
	u, err := a.cfg.Store.User(ext)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no user with extension %s.", ext)
	}
	if err != nil {
		return err
	}
	if u.System {
		return errorf(http.StatusBadRequest, "Extension %s is a system extension (a queue, ring group or attendant) and is changed on its own page.", ext)
	}
	return nil
}

// resetWebPassword sets a user's web password (generated when empty, then
// returned) and logs them out everywhere else.
func (a *App) resetWebPassword(ctx context.Context, l *webauth.Login, ext, pw string) (string, error) {
	if err := a.checkPerson(ext); err != nil {
		return "", err
	}
	generated := ""
	if pw == "" {
		pw = control.GeneratePassword(12)
		generated = pw
	} else if msg := webPasswordProblem(pw); msg != "" {
		return "", invalid(map[string]string{"password": msg})
	}
	if _, err := a.cfg.Ops.SetUser(ctx, ext, control.UserPatch{Password: &pw}); err != nil {
		return "", err
	}
	keep := ""
	if ext == l.User.Ext {
		keep = l.Token
	}
	a.log.Info("web: web password reset", "ext", ext, "by", l.User.Ext)
	return generated, a.cfg.Auth.EndOtherSessions(ext, keep)
}

func (a *App) deleteUser(ctx context.Context, l *webauth.Login, ext string) error {
	if ext == l.User.Ext {
		return errorf(http.StatusBadRequest, "You cannot delete your own account.")
	}
	if err := a.checkPerson(ext); err != nil {
		return err
	}
	if err := a.cfg.Ops.RemoveUser(ctx, ext); err != nil {
		return err
	}
	a.log.Info("web: user deleted", "ext", ext, "by", l.User.Ext)
	return a.cfg.Auth.EndOtherSessions(ext, "")
}

// deviceOf returns a device, 404 when there is none.
func (a *App) deviceOf(id string) (store.Device, error) {
	d, err := a.cfg.Store.Device(id)
	if errors.Is(err, store.ErrNotFound) {
		return d, errorf(http.StatusNotFound, "There is no phone (device) %s.", id)
	}
	return d, err
}

// deviceRow is a device as the pages show it.
type deviceRow struct {
	ID        string
	Primary   bool
	Disabled  bool
	Online    bool
	UserAgent string
	IP        string // where it registered from (NAT: the real address)
	Source    string // ip:port/transport
	Contact   string
	Last      string // last registration, office time
	More      int    // further registrations of the same device
}

// deviceJSON is a device in the API.
type deviceJSON struct {
	ID            string             `json:"id"`
	Ext           string             `json:"ext"`
	SIPUser       string             `json:"sip_user"`
	Primary       bool               `json:"primary"`
	Disabled      bool               `json:"disabled,omitempty"`
	Online        bool               `json:"online"`
	Registrations []registrationJSON `json:"registrations"`
}

type registrationJSON struct {
	Contact    string    `json:"contact"`
	Source     string    `json:"source"`
	Transport  string    `json:"transport"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Registered time.Time `json:"registered"`
	Expires    time.Time `json:"expires"`
}

// devicesOf lists a user's devices with their live registrations, newest
// registration first within each device.
func (a *App) devicesOf(ctx context.Context, ext string) ([]control.DeviceView, error) {
	devs, err := a.cfg.Ops.ListDevices(ctx, ext)
	for i := range devs {
		slices.SortFunc(devs[i].Bindings, func(x, y store.Binding) int { return y.Updated.Compare(x.Updated) })
	}
	return devs, err
}

func deviceRows(devs []control.DeviceView, loc *time.Location) []deviceRow {
	out := make([]deviceRow, 0, len(devs))
	for _, d := range devs {
		r := deviceRow{ID: d.ID, Primary: d.ID == d.Ext, Disabled: d.Disabled, Online: len(d.Bindings) > 0}
		if r.Online {
			b := d.Bindings[0]
			r.UserAgent, r.Contact, r.More = b.UserAgent, b.Contact, len(d.Bindings)-1
			r.IP = hostOf(b.Source)
			r.Source = b.Source + "/" + b.Transport
			r.Last = clock(b.Updated, loc)
		}
		out = append(out, r)
	}
	return out
}

func devicesJSON(devs []control.DeviceView) []deviceJSON {
	out := make([]deviceJSON, 0, len(devs))
	for _, d := range devs {
		j := deviceJSON{ID: d.ID, Ext: d.Ext, SIPUser: d.ID, Primary: d.ID == d.Ext, Disabled: d.Disabled,
			Online: len(d.Bindings) > 0, Registrations: []registrationJSON{}}
		for _, b := range d.Bindings {
			j.Registrations = append(j.Registrations, registrationJSON{Contact: b.Contact, Source: b.Source,
				Transport: b.Transport, UserAgent: b.UserAgent, Registered: b.Updated, Expires: b.Expires})
		}
		out = append(out, j)
	}
	return out
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// clock formats a time for people, in the office's time zone.
func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
