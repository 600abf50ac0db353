// Package webui is the web admin UI and its JSON API: server-rendered
// pages (html/template, embedded with the CSS and a small script in
// admin/webui/assets) and /api/ endpoints for the same operations, both
// behind the logins of admin/webauth. Office managers (role admin) get
// "Manage Organization"; everyone gets "My Account" with their own calls
// and phones. It changes users and devices only through the operator's
// operations (admin/control), and sees the running switch only through the
// small read-only interfaces below.
package webui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
	"switchboard/switch/event"
)

// Operator is what the UI does to users and devices: admin/control's Local,
// which validates like the CLI does.
type Operator interface {
	AddUser(ctx context.Context, spec control.UserSpec) (control.NewUser, error)
	ListUsers(ctx context.Context) ([]control.UserView, error)
	SetUser(ctx context.Context, ext string, p control.UserPatch) (control.UserView, error)
	RemoveUser(ctx context.Context, ext string) error
	AddDevice(ctx context.Context, ext, sipPassword string) (control.NewDevice, error)
	ListDevices(ctx context.Context, ext string) ([]control.DeviceView, error)
	RemoveDevice(ctx context.Context, id string) error
	SetDevicePassword(ctx context.Context, id, password string) (string, error)
	Backup(ctx context.Context, w io.Writer, size func(int64)) (int64, error)
	Webphone(ctx context.Context, ext string) (control.Webphone, error)
}

var _ Operator = (*control.Local)(nil)

// Registrations is the registrar, read only.
type Registrations interface {
	Lookup(device string) []store.Binding
	Counts() (devices, bindings int)
}

// LiveCall is a call in progress.
type LiveCall struct {
	ID         string
	From       string // calling extension or number
	To         string // dialled
	AnsweredBy string // device, once answered
	Start      time.Time
	Answer     time.Time // zero while ringing
}

// LiveCalls lists the calls in progress.
type LiveCalls interface {
	Active() []LiveCall
}

// Events is the switch's event bus (registrations, calls).
type Events interface {
	Subscribe(buf int) (<-chan event.Event, func())
}

// Config is what the UI works with; main wires it.
type Config struct {
	Store  *store.Store
	Ops    Operator
	Auth   *webauth.Auth
	Reg    Registrations
	Calls  LiveCalls // nil: no live calls
	Events Events    // nil: no live updates
	// MWI is told when a user's messages change (read, unread, deleted),
	// so their phones' message-waiting lamps follow; nil: no lamps.
	MWI MessageWaiting
	Log *slog.Logger
	// SIPServer is the address phones register to ("192.168.1.10:5060"),
	// shown with new SIP credentials.
	SIPServer string
	// Certificate is the HTTPS certificate's SHA-256 fingerprint and expiry,
	// shown on the preferences page.
	CertFingerprint string
	CertExpires     time.Time
}

// App serves the UI and the API.
type App struct {
	cfg   Config
	log   *slog.Logger
	pages *pages
	mux   *http.ServeMux

	uploadMu sync.Mutex    // one audio conversion at a time (upload.go)
	uploads  chan struct{} // uploads whose body may be in memory at once (upload.go)

	streamsMu sync.Mutex
	streams   map[string][]*streamSlot // live-update streams open per login token, oldest first (events.go)
}

// New builds the app; it fails only if the embedded templates are broken.
func New(cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: cfg.Log, pages: p, mux: http.NewServeMux(), uploads: make(chan struct{}, maxUploads),
		streams: map[string][]*streamSlot{}}
	a.routes()
	return a, nil
}

// ServeHTTP serves a request with the security headers every answer carries.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	a.mux.ServeHTTP(w, r)
}

// allowed lists the methods another route takes at this path: the
// catch-all routes answer 405 with them, 404 when there are none.
func (a *App) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pattern := a.mux.Handler(r2); pattern != "/" && pattern != "/api/" && pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

func (a *App) routes() {
	m := a.mux
	m.Handle("GET /static/", staticHandler())
	m.HandleFunc("GET /{$}", a.page(anyone, a.home))
	m.HandleFunc("GET /login", a.loginPage)
	m.HandleFunc("POST /login", a.loginPost)
	m.HandleFunc("POST /logout", a.page(anyone, a.logout))
	m.HandleFunc("GET /me", a.page(anyone, a.meHome))
	m.HandleFunc("GET /me/messages", a.page(anyone, a.messagesPage))
	m.HandleFunc("GET /me/messages/{id}/audio", a.page(anyone, a.messageAudio))
	m.HandleFunc("POST /me/messages/{id}/{op}", a.page(anyone, a.messageChange))
	m.HandleFunc("POST /me/voicemail", a.page(anyone, a.mailboxSettings))
	m.HandleFunc("POST /me/voicemail/greeting", a.uploadPage(anyone, greetingLimits.maxBytes, a.greetingUpload))
	m.HandleFunc("POST /me/voicemail/greeting/delete", a.page(anyone, a.greetingDelete))
	m.HandleFunc("GET /me/voicemail/greeting.wav", a.page(anyone, a.greetingListen))
	m.HandleFunc("GET /me/contacts", a.page(anyone, a.contactsPage))
	m.HandleFunc("GET /me/contacts/events", a.page(anyone, a.contactsEvents))
	m.HandleFunc("POST /me/contacts/{ext}/{op}", a.page(anyone, a.contactStar))
	m.HandleFunc("GET /me/timeframes", a.page(anyone, a.framesPage))
	m.HandleFunc("GET /me/timeframes/new", a.page(anyone, a.frameNewPage))
	m.HandleFunc("POST /me/timeframes", a.page(anyone, a.frameSave))
	m.HandleFunc("GET /me/timeframes/{id}", a.page(anyone, a.frameEditPage))
	m.HandleFunc("POST /me/timeframes/{id}", a.page(anyone, a.frameSave))
	m.HandleFunc("POST /me/timeframes/{id}/delete", a.page(anyone, a.frameDelete))
	m.HandleFunc("GET /me/rules", a.page(anyone, a.rulesPage))
	m.HandleFunc("POST /me/rules", a.page(anyone, a.ruleAdd))
	m.HandleFunc("POST /me/rules/dnd", a.page(anyone, a.ruleDND))
	m.HandleFunc("POST /me/rules/forward", a.page(anyone, a.ruleForward))
	m.HandleFunc("POST /me/rules/{n}/{op}", a.page(anyone, a.ruleChange))
	m.HandleFunc("GET /me/phones", a.page(anyone, a.mePhones))
	m.HandleFunc("GET /me/calls", a.page(anyone, a.meCalls))
	m.HandleFunc("GET /me/calls.csv", a.page(anyone, a.meCallsCSV))
	m.HandleFunc("GET /me/events", a.page(anyone, a.meEvents))
	m.HandleFunc("GET /me/password", a.page(anyone, a.passwordPage))
	m.HandleFunc("POST /me/password", a.page(anyone, a.passwordPost))

	m.HandleFunc("GET /admin", a.page(admins, a.dashboard))
	m.HandleFunc("GET /admin/graph", a.page(admins, a.dashboardGraph))
	m.HandleFunc("GET /admin/events", a.page(admins, a.dashboardEvents))
	m.HandleFunc("GET /admin/users", a.page(admins, a.usersPage))
	m.HandleFunc("GET /admin/users/new", a.page(admins, a.userNewPage))
	m.HandleFunc("POST /admin/users", a.page(admins, a.userCreate))
	m.HandleFunc("GET /admin/users/{ext}", a.page(admins, a.userPage))
	m.HandleFunc("POST /admin/users/{ext}", a.page(admins, a.userUpdate))
	m.HandleFunc("POST /admin/users/{ext}/password", a.page(admins, a.userResetPassword))
	m.HandleFunc("POST /admin/users/{ext}/devices", a.page(admins, a.userAddDevice))
	m.HandleFunc("POST /admin/users/{ext}/delete", a.page(admins, a.userDelete))
	m.HandleFunc("POST /admin/devices/{id}/sip-password", a.page(admins, a.deviceResetPassword))
	m.HandleFunc("POST /admin/devices/{id}/delete", a.page(admins, a.deviceDelete))
	m.HandleFunc("GET /admin/timeframes", a.page(admins, a.framesPage))
	m.HandleFunc("GET /admin/timeframes/new", a.page(admins, a.frameNewPage))
	m.HandleFunc("POST /admin/timeframes", a.page(admins, a.frameSave))
	m.HandleFunc("GET /admin/timeframes/{id}", a.page(admins, a.frameEditPage))
	m.HandleFunc("POST /admin/timeframes/{id}", a.page(admins, a.frameSave))
	m.HandleFunc("POST /admin/timeframes/{id}/delete", a.page(admins, a.frameDelete))
	m.HandleFunc("POST /admin/timezone", a.page(admins, a.zoneSet))
	m.HandleFunc("GET /admin/music", a.page(admins, a.musicPage))
	m.HandleFunc("GET /admin/music/audio/{part}", a.page(admins, a.musicAudio))
	m.HandleFunc("POST /admin/music/{part}", a.uploadPage(admins, control.MaxMusicUpload, a.musicUpload))
	m.HandleFunc("POST /admin/music/intro/delete", a.page(admins, a.musicChange))
	m.HandleFunc("POST /admin/music/reset", a.page(admins, a.musicChange))
	m.HandleFunc("GET /admin/calls", a.page(admins, a.adminCalls))
	m.HandleFunc("GET /admin/calls.csv", a.page(admins, a.adminCallsCSV))
	m.HandleFunc("GET /admin/preferences", a.page(admins, a.prefsPage))
	m.HandleFunc("POST /admin/preferences/reauth", a.page(admins, a.prefsReauth))
	m.HandleFunc("GET /admin/backup", a.page(admins, a.backupDownload))
	m.HandleFunc("POST /admin/preferences/smtp", a.page(admins, a.smtpSave))
	m.HandleFunc("POST /admin/preferences/smtp/test", a.page(admins, a.smtpTest))
	m.HandleFunc("POST /admin/preferences/emergency", a.page(admins, a.emergencySave))
	m.HandleFunc("POST /admin/preferences/contacts", a.page(admins, a.contactSave))
	m.HandleFunc("POST /admin/preferences/contacts/{id}", a.page(admins, a.contactSave))
	m.HandleFunc("POST /admin/preferences/contacts/{id}/delete", a.page(admins, a.contactDelete))

	a.webphoneRoutes(m)
	a.apiRoutes()
	m.HandleFunc("/", a.page(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
		if allow := a.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return errorf(http.StatusMethodNotAllowed, "This address does not take that kind of request.")
		}
		return errNotFound
	}))
}

// who may use a page or an API endpoint.
type audience int

const (
	anyone audience = iota // every logged-in user
	admins                 // office managers only
)

// loginOf returns the request's login, or nil.
func (a *App) loginOf(r *http.Request) *webauth.Login {
	l, err := a.cfg.Auth.Lookup(webauth.SessionToken(r))
	if err != nil {
		if err != webauth.ErrNoLogin {
			a.log.Error("session lookup", "err", err)
		}
		return nil
	}
	return l
}

// clientIP is the address a request came from (no proxy is trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// office is the time zone the office's times are shown in: the time_zone
// setting, else the box's own.
func (a *App) office() *time.Location {
	var name string
	if err := a.cfg.Store.Setting(store.TimeZoneKey, &name); err == nil && name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.Local
}

func (a *App) now() time.Time { return a.cfg.Auth.Now() }
