package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"switchboard/store"
)

// ErrNoServer means no server answers on the data directory's control socket.
var ErrNoServer = errors.New("no running server")

// Client runs Ops on a running server through its control socket.
type Client struct {
	http *http.Client
}

var _ Ops = (*Client)(nil)

// Dial connects to the server serving dir, or returns ErrNoServer.
func Dial(dir string) (*Client, error) {
	path := filepath.Join(dir, SocketName)
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, ErrNoServer
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{http: &http.Client{Transport: tr}}, nil
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://switchboard"+path, body)
	if err != nil {
		return err
	}
	if size > 0 {
		req.ContentLength = size
	}
	return c.send(req, out)
}

// send runs req and decodes a 200's JSON into out, or copies it into out
// when out is an io.Writer; other answers are the server's *Error.
func (c *Client) send(req *http.Request, out any) error {
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return readError(res)
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, res.Body)
		return err
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// readError turns a failed answer into the server's *Error.
func readError(res *http.Response) error {
	e := &Error{Status: res.StatusCode}
	if json.NewDecoder(res.Body).Decode(e) != nil || e.Message == "" {
		e.Message = res.Status
	}
	e.Status = res.StatusCode
	return e
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.do(ctx, method, path, body, 0, out)
}

func (c *Client) AddUser(ctx context.Context, spec UserSpec) (out NewUser, err error) {
	return out, c.doJSON(ctx, "POST", "/v1/users", spec, &out)
}

func (c *Client) ImportUsers(ctx context.Context, specs []UserSpec) (int, error) {
	var out map[string]int
	err := c.doJSON(ctx, "POST", "/v1/users/import", specs, &out)
	return out["created"], err
}

func (c *Client) ListUsers(ctx context.Context) (out []UserView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/users", nil, &out)
}

func (c *Client) SetUser(ctx context.Context, ext string, p UserPatch) (out UserView, err error) {
	return out, c.doJSON(ctx, "PATCH", "/v1/users/"+url.PathEscape(ext), p, &out)
}

func (c *Client) RemoveUser(ctx context.Context, ext string) error {
	return c.doJSON(ctx, "DELETE", "/v1/users/"+url.PathEscape(ext), nil, &struct{}{})
}

func (c *Client) AddDevice(ctx context.Context, ext, sipPassword string) (out NewDevice, err error) {
	in := map[string]string{"ext": ext, "sip_password": sipPassword}
	return out, c.doJSON(ctx, "POST", "/v1/devices", in, &out)
}

func (c *Client) ListDevices(ctx context.Context, ext string) (out []DeviceView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/devices?ext="+url.QueryEscape(ext), nil, &out)
}

func (c *Client) RemoveDevice(ctx context.Context, id string) error {
	return c.doJSON(ctx, "DELETE", "/v1/devices/"+url.PathEscape(id), nil, &struct{}{})
}

// Backup streams the running server's snapshot to w; a short stream is an error.
func (c *Client) Backup(ctx context.Context, w io.Writer, size func(int64)) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://switchboard/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, readError(res)
	}
	want, _ := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64)
	if size != nil {
		size(want)
	}
	n, err := io.Copy(w, res.Body)
	if err == nil && want > 0 && n != want {
		err = fmt.Errorf("backup stream ended after %d of %d bytes", n, want)
	}
	return n, err
}

// Restore sends the snapshot to the running server, which validates and swaps it in.
func (c *Client) Restore(ctx context.Context, r io.Reader, size int64) (out RestoreResult, err error) {
	return out, c.do(ctx, "POST", "/v1/restore", r, size, &out)
}

func (c *Client) ListCalls(ctx context.Context, since time.Time, limit int) (out []store.CallRecord, err error) {
	q := url.Values{"since": {since.UTC().Format(time.RFC3339Nano)}, "limit": {strconv.Itoa(limit)}}
	return out, c.doJSON(ctx, "GET", "/v1/calls?"+q.Encode(), nil, &out)
}
