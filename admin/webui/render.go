package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"switchboard/admin/webauth"
	"switchboard/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the parsed templates: each page file together with the layout
// and the shared partials.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
	"static":   func(name string) string { return "/static/" + name + "?v=" + staticVersion() },
	"navItems": navItems,
	"keypad":   func() []string { return strings.Split("123456789*0#", "") },
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"derefRole": func(p *store.Role) string {
		if p == nil {
			return ""
		}
		return string(*p)
	},
	"derefBool": func(p *bool) bool { return p != nil && *p },
	"stepArgs":  stepArgs,
	"frameTable": func(rows []frameRow, s frameScope, id string, editable bool, csrf string) frameTableArgs {
		return frameTableArgs{Rows: rows, Scope: s, ID: id, Editable: editable, CSRF: csrf}
	},
}

func loadPages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		file := path.Base(name)
		if file == "layout.html" || file == "partials.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, err
		}
		p.byName[strings.TrimSuffix(file, ".html")] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title   string
	Login   *webauth.Login
	Section string // "org" (Manage Organization) or "me" (My Account)
	Nav     string // the navigation item to highlight
	Flash   string // a one-line confirmation at the top
	Data    any
}

// render writes a whole page. A template failure is logged and becomes a
// plain error page, never a half page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := a.pages.byName[name]
	var buf bytes.Buffer
	err := fmt.Errorf("no template %q", name)
	if ok {
		err = t.ExecuteTemplate(&buf, "layout.html", v)
	}
	if err != nil {
		a.log.Error("render page", "page", name, "err", err)
		http.Error(w, "Something went wrong on the server. The details are in its log.", http.StatusInternalServerError)
		return
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderPart writes one named template of a page (a fragment the page's
// script swaps in when something changes).
func (a *App) renderPart(w http.ResponseWriter, name, part string, data any) error {
	t, ok := a.pages.byName[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, data); err != nil {
		return err
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := w.Write(buf.Bytes())
	return err
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// renderError shows err as a page with the layout (when logged in) or a
// bare one.
func (a *App) renderError(w http.ResponseWriter, r *http.Request, l *webauth.Login, err error) {
	e := a.userError(r, err)
	section := "me"
	if l != nil && l.Admin() && strings.HasPrefix(r.URL.Path, "/admin") {
		section = "org"
	}
	a.render(w, r, e.Status, "error", &view{Title: http.StatusText(e.Status), Login: l, Section: section, Data: e})
}

// pageFunc is a page handler; it returns an error to show instead.
type pageFunc func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error

// maxFormBody bounds the body of every form and API write that is not an
// upload.
const maxFormBody = 1 << 20

// page wraps a page handler: a visitor without a session goes to the login
// page (and back afterwards), a user who is not an office manager is
// refused admin pages, and every write passes the same-origin and CSRF checks.
func (a *App) page(who audience, fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := a.gate(w, r, who)
		if l == nil {
			return
		}
		if !webauth.Safe(r.Method) {
			limitBody(w, r, maxFormBody)
			if err := webauth.CheckWrite(r, l); err != nil {
				a.renderError(w, r, l, err)
				return
			}
		}
		if err := fn(w, r, l); err != nil {
			a.renderError(w, r, l, err)
		}
	}
}

// gate returns the request's login if it may see a page for who; otherwise
// it answered (the login page, or "office managers only") and returns nil.
func (a *App) gate(w http.ResponseWriter, r *http.Request, who audience) *webauth.Login {
	l := a.loginOf(r)
	if l == nil {
		target := "/login"
		if webauth.Safe(r.Method) && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	if who == admins && !l.Admin() {
		a.renderError(w, r, l, errForbidden)
		return nil
	}
	return l
}

// localPath accepts only a path on this site as a place to go back to.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

// staticVersion is a hash of the static files, so browsers may keep them
// until the binary changes. It is worked out on first use: the files stay
// in the binary, read only when a browser asks for them.
var staticVersion = sync.OnceValue(func() string {
	h := sha256.New()
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := staticFS.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h.Write([]byte(p))
		_, err = io.Copy(h, f)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
})

func staticHandler() http.Handler {
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		f, err := staticFS.Open("static/" + name) // refuses a path that is not clean
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		file, ok := f.(io.ReadSeeker)
		if st, err := f.Stat(); err != nil || st.IsDir() || !ok {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if r.URL.Query().Get("v") == staticVersion() {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, started, file)
	})
}
