// Switchboard is a phone system (PBX) for small offices in one binary.
// main wires the packages together; it holds no telephony logic.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // office time zones work on a box without /usr/share/zoneinfo

	"switchboard/admin/cli"
	"switchboard/admin/control"
	"switchboard/admin/web"
	"switchboard/media"
	"switchboard/media/webrtc"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/server"
	"switchboard/switch/voicemail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, serve, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// serve runs the whole switch until ctx ends, then shuts down in order:
// listeners, registrations flushed, control socket, store.
func serve(ctx context.Context, opts cli.ServeOptions) error {
	if opts.PProf == "" {
		runtime.MemProfileRate = 0 // see main_memory.go
	}
	tuneGC()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: opts.LogLevel}))
	st, err := store.Open(opts.Data)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: is another `switchboard serve --data %s` running?", err, opts.Data)
	}
	if err != nil {
		return err
	}
	defer st.Close()

	ctl, err := control.Listen(opts.Data)
	if err != nil {
		return err
	}
	bus := event.New()
	sipHost, _, _ := net.SplitHostPort(opts.SIP)
	advertise := opts.AdvertiseIP
	if advertise == "" {
		advertise = sipHost
		if ip := net.ParseIP(sipHost); ip == nil || ip.IsUnspecified() {
			advertise = server.LANAddress()
		}
	}
	engine, err := media.NewEngine(media.Config{BindIP: net.ParseIP(sipHost), AdvertiseIP: net.ParseIP(advertise),
		PortLow: opts.RTPLow, PortHigh: opts.RTPHigh, Logger: log})
	if err != nil {
		ctl.Close()
		return fmt.Errorf("media: %w", err)
	}
	defer engine.Close() // after the switch: its calls have closed their endpoints
	gw, err := webrtc.New(webrtc.Config{Addr: cmp.Or(opts.WebRTC, opts.HTTPS), Log: log})
	if err != nil {
		ctl.Close()
		return fmt.Errorf("webphone media: %w", err)
	}
	defer gw.Close() // after the switch, like the engine
	sw, err := server.New(server.Config{Addr: opts.SIP, Digest: opts.Digest, AdvertiseIP: advertise, Media: engine,
		WebRTC: gw, Calls: call.Config{Gateway: opts.Gateway}, BuiltinVoicemail: true}, st, bus, log)
	if err != nil {
		ctl.Close()
		return err
	}
	if err := sw.Listen(); err != nil {
		ctl.Close()
		return err
	}
	ops := &control.Local{Store: st, Reg: sw.Registrar(), Music: sw.Calls(), MWI: sw.Presence(), Mail: &voicemail.SMTP{Settings: st}}
	if err := ops.ApplyMusic(); err != nil { // the stored music on hold, before the first call
		log.Error("music on hold: playing the built-in music", "err", err)
	}
	webSrv, err := newWeb(st, ops, opts, sw, bus, log)
	if err != nil {
		sw.Close()
		ctl.Close()
		return err
	}
	// After Listen: the login message names the real addresses (port 0 picks one).
	_, sipPort, _ := net.SplitHostPort(sw.Addr())
	// Phones need the address they can reach, not the wildcard the switch listens on.
	if err := firstRun(ctx, st, opts, net.JoinHostPort(advertise, sipPort), webURL(webSrv.HTTPSAddr(), advertise), os.Stdout); err != nil {
		webSrv.Close()
		sw.Close()
		ctl.Close()
		return err
	}

	log.Info("switchboard serving", "data", opts.Data, "sip", sw.Addr(), "http", webSrv.HTTPAddr(), "https", webSrv.HTTPSAddr(), "webrtc", gw.Addr().String(),
		"control", ctl.Addr().String())
	var wg sync.WaitGroup
	wg.Go(func() { sw.Serve(ctx) })
	wg.Go(func() {
		if err := control.Serve(ctx, ctl, ops, log); err != nil {
			log.Error("control socket", "err", err)
		}
	})
	wg.Go(func() { webSrv.Serve(ctx) })
	wg.Go(func() { trimIdleMemory(ctx) })
	pprofSrv := &http.Server{Handler: web.Profiling(), ReadHeaderTimeout: 10 * time.Second}
	if opts.PProf != "" {
		if ln, err := net.Listen("tcp", opts.PProf); err != nil {
			log.Error("pprof", "err", err)
		} else {
			log.Info("profiling enabled", "addr", ln.Addr().String())
			wg.Go(func() {
				if err := pprofSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					log.Error("pprof", "err", err)
				}
			})
		}
	}
	<-ctx.Done()
	log.Info("shutting down") // the web servers shut down by themselves (webSrv.Serve)
	pprofSrv.Close()
	wg.Wait()
	log.Info("stopped")
	return nil
}

// firstRun creates the office manager's login when the store has none (an
// empty store, or one the CLI filled with users before the first serve) and
// prints it once: there is no other way to learn it.
func firstRun(ctx context.Context, st *store.Store, opts cli.ServeOptions, sipAddr, webURL string, out io.Writer) error {
	users, err := st.Users()
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, u := range users {
		if u.Role == store.RoleAdmin {
			return nil
		}
		taken[u.Ext] = true
	}
	ext := 100
	for taken[strconv.Itoa(ext)] {
		ext++
	}
	ops := &control.Local{Store: st}
	u, err := ops.AddUser(ctx, control.UserSpec{Ext: strconv.Itoa(ext), Name: "Office Manager", Role: store.RoleAdmin})
	if err != nil {
		return fmt.Errorf("create the first office-manager login: %w", err)
	}
	fmt.Fprintf(out, `
  Switchboard is set up in %s.
  Office manager login (shown only this once — write it down):
      extension %s, password %s
      web admin: %s (see docs/WEB.md to trust its certificate)
      SIP phone for extension %s: user %s, password %s, server %s
  Change the password with: switchboard user set --data %s --ext %s --password NEW

`, opts.Data, u.User.Ext, u.Password, webURL, u.User.Ext, u.User.Ext, u.SIPPassword, sipAddr, opts.Data, u.User.Ext)
	return nil
}
