package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SocketName is the control socket's file in the data directory.
const SocketName = "control.sock"

// maxJSON bounds a request body that is not a backup.
const maxJSON = 64 << 20

// Handler serves ops over HTTP; the server mounts it on the control socket.
func Handler(ops Ops, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				writeError(w, err, log)
			}
		})
	}
	h("GET /v1/users", func(w http.ResponseWriter, r *http.Request) error {
		users, err := ops.ListUsers(r.Context())
		return reply(w, users, err)
	})
	h("POST /v1/users", func(w http.ResponseWriter, r *http.Request) error {
		var spec UserSpec
		if err := readJSON(r, &spec); err != nil {
			return err
		}
		out, err := ops.AddUser(r.Context(), spec)
		return reply(w, out, err)
	})
	h("POST /v1/users/import", func(w http.ResponseWriter, r *http.Request) error {
		var specs []UserSpec
		if err := readJSON(r, &specs); err != nil {
			return err
		}
		n, err := ops.ImportUsers(r.Context(), specs)
		return reply(w, map[string]int{"created": n}, err)
	})
	h("PATCH /v1/users/{ext}", func(w http.ResponseWriter, r *http.Request) error {
		var p UserPatch
		if err := readJSON(r, &p); err != nil {
			return err
		}
		out, err := ops.SetUser(r.Context(), r.PathValue("ext"), p)
		return reply(w, out, err)
	})
	h("DELETE /v1/users/{ext}", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, struct{}{}, ops.RemoveUser(r.Context(), r.PathValue("ext")))
	})
	h("GET /v1/devices", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.ListDevices(r.Context(), r.URL.Query().Get("ext"))
		return reply(w, out, err)
	})
	h("POST /v1/devices", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Ext         string `json:"ext"`
			SIPPassword string `json:"sip_password"`
		}
		if err := readJSON(r, &req); err != nil {
			return err
		}
		out, err := ops.AddDevice(r.Context(), req.Ext, req.SIPPassword)
		return reply(w, out, err)
	})
	h("DELETE /v1/devices/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, struct{}{}, ops.RemoveDevice(r.Context(), r.PathValue("id")))
	})
	h("GET /v1/calls", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		since, err := time.Parse(time.RFC3339Nano, q.Get("since"))
		if err != nil {
			return errorf(http.StatusBadRequest, "since: %v", err)
		}
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			return errorf(http.StatusBadRequest, "limit: %v", err)
		}
		out, err := ops.ListCalls(r.Context(), since, limit)
		return reply(w, out, err)
	})
	h("GET /v1/backup", func(w http.ResponseWriter, r *http.Request) error {
		started := false
		_, err := ops.Backup(r.Context(), w, func(n int64) {
			started = true
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		})
		if err != nil && !started {
			return err // nothing sent yet: a proper error answer
		}
		if err != nil {
			log.Error("backup over control socket", "err", err)
		}
		return nil // the body has started; the client sees a short read
	})
	h("POST /v1/restore", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.Restore(r.Context(), r.Body, r.ContentLength)
		return reply(w, out, err)
	})
	handleRules(h, ops) // answering rules, DND, forwarding, time frames, time zone
	musicRoutes(ops, h)
	voicemailRoutes(ops, h) // mailboxes, messages, SMTP
	return mux
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad request body: %v", err)
	}
	// One JSON value and nothing after it: a body with two, or with garbage
	// behind the first, was not meant as the request it would be read as.
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "bad request body: data after the JSON value")
	}
	return nil
}

func reply(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error, log *slog.Logger) {
	var e *Error
	if !errors.As(err, &e) {
		log.Error("control request failed", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}

// Listen opens the control socket in dir, readable and writable only by its owner.
// A socket file left by a server that died is replaced.
func Listen(dir string) (net.Listener, error) {
	path := filepath.Join(dir, SocketName)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another switchboard is already serving %s", dir)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Serve serves the control API on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, ops Ops, log *slog.Logger) error {
	srv := &http.Server{Handler: Handler(ops, log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
