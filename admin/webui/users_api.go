package webui

import (
	"net/http"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
)

// The office manager's user and device endpoints (docs/API.md).
func (a *App) apiUsersRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/users", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		all, err := a.cfg.Ops.ListUsers(r.Context())
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		return listUsers(all, strings.TrimSpace(q.Get("q")), q.Get("system") != "1").Users, nil
	}))
	m.HandleFunc("POST /api/users", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var spec control.UserSpec
		if err := readJSON(r, &spec); err != nil {
			return nil, err
		}
		nu, err := a.createUser(r.Context(), spec)
		if err != nil {
			return nil, err
		}
		return created{nu}, nil
	}))
	m.HandleFunc("GET /api/users/{ext}", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return a.apiUser(r, r.PathValue("ext"))
	}))
	m.HandleFunc("PATCH /api/users/{ext}", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var ed userEdit
		if err := readJSON(r, &ed); err != nil {
			return nil, err
		}
		return a.updateUser(r.Context(), l, r.PathValue("ext"), ed)
	}))
	m.HandleFunc("DELETE /api/users/{ext}", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := a.deleteUser(r.Context(), l, r.PathValue("ext")); err != nil {
			return nil, err
		}
		return map[string]string{"status": "deleted"}, nil
	}))
	m.HandleFunc("POST /api/users/{ext}/password", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Password string `json:"password"`
		}
		if r.ContentLength != 0 {
			if err := readJSON(r, &req); err != nil {
				return nil, err
			}
		}
		pw, err := a.resetWebPassword(r.Context(), l, r.PathValue("ext"), req.Password)
		if err != nil {
			return nil, err
		}
		return map[string]string{"password": pw}, nil
	}))
	m.HandleFunc("GET /api/users/{ext}/devices", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := a.checkPerson(r.PathValue("ext")); err != nil {
			return nil, err
		}
		devs, err := a.devicesOf(r.Context(), r.PathValue("ext"))
		return devicesJSON(devs), err
	}))
	m.HandleFunc("POST /api/users/{ext}/devices", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			SIPPassword string `json:"sip_password"`
		}
		if r.ContentLength != 0 {
			if err := readJSON(r, &req); err != nil {
				return nil, err
			}
		}
		ext := r.PathValue("ext")
		if err := a.checkPerson(ext); err != nil {
			return nil, err
		}
		nd, err := a.cfg.Ops.AddDevice(r.Context(), ext, req.SIPPassword)
		if err != nil {
			return nil, err
		}
		out := struct {
			Device      deviceJSON `json:"device"`
			SIPPassword string     `json:"sip_password,omitempty"`
		}{devicesJSON([]control.DeviceView{nd.Device})[0], nd.SIPPassword}
		return created{out}, nil
	}))
	m.HandleFunc("POST /api/devices/{id}/sip-password", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			SIPPassword string `json:"sip_password"`
		}
		if r.ContentLength != 0 {
			if err := readJSON(r, &req); err != nil {
				return nil, err
			}
		}
		d, err := a.deviceOf(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if err := a.checkPerson(d.Ext); err != nil {
			return nil, err
		}
		pw, err := a.cfg.Ops.SetDevicePassword(r.Context(), d.ID, req.SIPPassword)
		if err != nil {
			return nil, err
		}
		return map[string]string{"sip_password": pw}, nil
	}))
	m.HandleFunc("DELETE /api/devices/{id}", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		d, err := a.deviceOf(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if err := a.checkPerson(d.Ext); err != nil {
			return nil, err
		}
		if err := a.cfg.Ops.RemoveDevice(r.Context(), d.ID); err != nil {
			return nil, err
		}
		return map[string]string{"status": "removed"}, nil
	}))
}

// userJSON is one user with their devices.
type userJSON struct {
	User    control.UserView `json:"user"`
	Devices []deviceJSON     `json:"devices"`
}

func (a *App) apiUser(r *http.Request, ext string) (userJSON, error) {
	if err := a.checkPerson(ext); err != nil {
		return userJSON{}, err
	}
	users, err := a.cfg.Ops.ListUsers(r.Context())
	if err != nil {
		return userJSON{}, err
	}
	var out userJSON
	for _, u := range users {
		if u.Ext == ext {
			out.User = u
		}
	}
	devs, err := a.devicesOf(r.Context(), ext)
	out.Devices = devicesJSON(devs)
	return out, err
}
