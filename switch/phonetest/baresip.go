package phonetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipOptions describe a baresip phone.
type BaresipOptions struct {
	User, Password string // the device's SIP credentials
	Server         string // the switch's SIP address, host:port (UDP)
	// Microphone is a WAV file (8 kHz mono 16-bit, see tonetest.WriteWAV)
	// the phone plays into its calls. Make it longer than the calls.
	Microphone string
	AutoAnswer bool // answer incoming calls at once
}

// Baresip is a real SIP phone for interop tests: a baresip process (tested
// with 1.0.0, Debian's) with its own config directory and no sound card. It
// plays a WAV file as its microphone (module aufile), records what it hears
// to WAV files (module sndfile, one file per call) and takes commands over
// TCP (module ctrl_tcp: netstrings holding JSON). Start it with
// StartBaresip; it is stopped by its PID at test cleanup, and when the test
// failed its log and recordings are kept and named in the test output.
type Baresip struct {
	Dir string // config, log (baresip.log) and recordings (rec/)

	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	ctrl   net.Conn
	stop   sync.Once

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every message
	events    []BaresipEvent
	next      int // events before this one were taken by WaitEvent
	responses map[string]ctrlResponse
	readErr   error
	token     int
}

// BaresipEvent is an event baresip reports over ctrl_tcp, e.g. Type
// "CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED" (Param: the reason).
type BaresipEvent struct {
	Type    string `json:"type"`
	Class   string `json:"class"`
	PeerURI string `json:"peeruri"`
	Param   string `json:"param"`
}

type ctrlResponse struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// baresipModules are the modules a test phone loads.
var baresipModules = []string{"g711", "aufile", "alsa", "sndfile", "account", "menu", "ctrl_tcp"}

// StartBaresip starts a baresip phone registering to o.Server. bin is the
// baresip program (see RequireTool).
func StartBaresip(t testing.TB, bin string, o BaresipOptions) *Baresip {
	t.Helper()
	modules, err := baresipModulePath()
	if err != nil {
		t.Fatal(err)
	}
	b := &Baresip{Dir: t.TempDir(), t: t, exited: make(chan struct{}), changed: make(chan struct{}),
		responses: map[string]ctrlResponse{}}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.writeConfig(modules, ctrlPort, o); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(b.Dir, "baresip.log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-f", b.Dir, "-v")
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		b.cmd.Wait()
		logFile.Close()
		close(b.exited)
	}()
	t.Cleanup(func() { b.keepOnFailure(o.User) }) // runs after Stop: the files are complete
	t.Cleanup(b.Stop)
	if err := b.connect(ctrlPort); err != nil {
		t.Fatalf("baresip %s: %v\n%s", o.User, err, b.Log())
	}
	return b
}

// writeConfig writes the config and accounts files: SIP on a port of the
// OS's choosing on 127.0.0.1, G.711 only, the WAV file as the microphone,
// ALSA's null device as the loudspeaker (the sndfile filter records what
// is decoded before it), commands on ctrlPort.
func (b *Baresip) writeConfig(modules string, ctrlPort int, o BaresipOptions) error {
	if err := os.Mkdir(filepath.Join(b.Dir, "rec"), 0o755); err != nil {
		return err
	}
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
call_local_timeout	120
call_max_calls		4
audio_player		alsa,null
audio_alert		alsa,null
audio_source		aufile,%s
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16
audio_buffer		20-160
rtp_tos			0
rtcp_mux		no
jitter_buffer_delay	5-10
rtp_stats		no
statmode_default	off
module_path		%s
module			g711.so
module			aufile.so
module			alsa.so
module			sndfile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%d
snd_path		%s
`, o.Microphone, modules, ctrlPort, filepath.Join(b.Dir, "rec"))
	answer := "manual"
	if o.AutoAnswer {
		answer = "auto"
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;answermode=%s;regint=600;ptime=20\n",
		o.User, o.Server, o.Password, answer)
	if err := os.WriteFile(filepath.Join(b.Dir, "config"), []byte(config), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.Dir, "accounts"), []byte(account), 0o600)
}

// baresipModulePath finds the directory holding baresip's modules.
func baresipModulePath() (string, error) {
	dirs := []string{"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules", "/usr/lib64/baresip/modules"}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "g711.so")); err == nil {
			for _, m := range baresipModules {
				if _, err := os.Stat(filepath.Join(d, m+".so")); err != nil {
					return "", fmt.Errorf("baresip module %s.so missing in %s (install the baresip package)", m, d)
				}
			}
			return d, nil
		}
	}
	return "", fmt.Errorf("no baresip modules in %v (install the baresip package)", dirs)
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// connect opens the command connection once baresip listens.
func (b *Baresip) connect(port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			b.ctrl = c
			go b.read(bufio.NewReader(c))
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("baresip exited at start (%v)", b.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no ctrl_tcp on port %d: %v", port, err)
		}
	}
}

// read takes netstrings ("LEN:JSON,") off the command connection.
func (b *Baresip) read(r *bufio.Reader) {
	var err error
	for err == nil {
		var msg []byte
		if msg, err = readNetstring(r); err == nil {
			err = b.handle(msg)
		}
	}
	b.mu.Lock()
	b.readErr = err
	b.notifyLocked()
	b.mu.Unlock()
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	msg := make([]byte, n+1)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	if msg[n] != ',' {
		return nil, fmt.Errorf("netstring not ended by a comma")
	}
	return msg[:n], nil
}

func (b *Baresip) handle(msg []byte) error {
	var m struct {
		Event    bool   `json:"event"`
		Response bool   `json:"response"`
		Token    string `json:"token"`
		BaresipEvent
		ctrlResponse
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return fmt.Errorf("ctrl_tcp message %q: %w", msg, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case m.Event:
		b.events = append(b.events, m.BaresipEvent)
	case m.Response:
		b.responses[m.Token] = m.ctrlResponse
	}
	b.notifyLocked()
	return nil
}

func (b *Baresip) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// await calls check under the lock whenever a message arrives, until it
// returns true, the connection fails or the timeout passes.
func (b *Baresip) await(timeout time.Duration, check func() bool) error {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		done, err, changed := check(), b.readErr, b.changed
		b.mu.Unlock()
		switch {
		case done:
			return nil
		case err != nil:
			return fmt.Errorf("ctrl_tcp connection: %w", err)
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("timed out after %v", timeout)
		}
	}
}

// Command runs a baresip command, e.g. Command("dial", "201"), Command("hangup", "").
func (b *Baresip) Command(command, params string) error {
	b.mu.Lock()
	b.token++
	token := "t" + strconv.Itoa(b.token)
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]string{"command": command, "params": params, "token": token})
	if err != nil {
		return err
	}
	b.ctrl.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	var res ctrlResponse
	err = b.await(10*time.Second, func() bool {
		r, ok := b.responses[token]
		res = r
		return ok
	})
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", command, params, err)
	case !res.OK:
		return fmt.Errorf("%s %s: %s", command, params, res.Data)
	}
	return nil
}

// WaitEvent waits for the next event of type typ (skipping others) and
// returns it; events are taken in order, so two waits for "CALL_CLOSED"
// need two calls closed.
func (b *Baresip) WaitEvent(typ string, timeout time.Duration) (BaresipEvent, error) {
	var ev BaresipEvent
	err := b.await(timeout, func() bool {
		for i := b.next; i < len(b.events); i++ {
			if b.events[i].Type == typ {
				ev, b.next = b.events[i], i+1
				return true
			}
		}
		return false
	})
	if err != nil {
		return ev, fmt.Errorf("waiting for %s: %w", typ, err)
	}
	return ev, nil
}

// Recordings returns the WAV files of what the phone heard, one per call
// (sndfile's dump-TIME-dec.wav). Stop the phone first so they are complete.
func (b *Baresip) Recordings() []string {
	files, _ := filepath.Glob(filepath.Join(b.Dir, "rec", "dump-*-dec.wav"))
	return files
}

// Log is baresip's output so far.
func (b *Baresip) Log() string {
	out, err := os.ReadFile(filepath.Join(b.Dir, "baresip.log"))
	if err != nil {
		return err.Error()
	}
	return string(out)
}

// Stop quits baresip (it unregisters first) and waits for it; after 3 s it
// is killed. Safe to call twice.
func (b *Baresip) Stop() {
	b.stop.Do(func() {
		if b.ctrl != nil {
			b.ctrl.SetWriteDeadline(time.Now().Add(time.Second))
			msg := `{"command":"quit","params":"","token":"quit"}`
			fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg)
		}
		select {
		case <-b.exited:
		case <-time.After(3 * time.Second):
			b.cmd.Process.Kill() // by its PID
			<-b.exited
		}
		if b.ctrl != nil {
			b.ctrl.Close()
		}
	})
}

// keepOnFailure copies the phone's directory (log, config, recordings) out
// of the test's temporary directory when the test failed, and says where.
func (b *Baresip) keepOnFailure(user string) {
	if !b.t.Failed() {
		return
	}
	log := b.Log()
	if lines := strings.Split(log, "\n"); len(lines) > 80 {
		log = strings.Join(lines[len(lines)-80:], "\n")
	}
	b.t.Logf("baresip %s, end of its log:\n%s", user, log)
	kept, err := os.MkdirTemp("", "switchboard-baresip-"+user+"-")
	if err == nil {
		err = os.CopyFS(kept, os.DirFS(b.Dir))
	}
	if err != nil {
		b.t.Logf("baresip %s: could not keep its files: %v", user, err)
		return
	}
	b.t.Logf("baresip %s: log, config and recordings kept in %s", user, kept)
}
