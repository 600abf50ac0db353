package registrar_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/switch/auth"
	"switchboard/switch/event"
	"switchboard/switch/phonetest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// status(t, 200)(phone.Register(…)) fails the test unless the answer is 200.
func status(t *testing.T, want int) func(*sip.Response, error) *sip.Response {
	return func(res *sip.Response, err error) *sip.Response {
		t.Helper()
		if err != nil {
			t.Fatalf("want %d, got error %v", want, err)
		}
		if res.StatusCode != want {
			t.Fatalf("want %d, got %d %s", want, res.StatusCode, res.Reason)
		}
		return res
	}
}

func TestRegisterRefreshUnregister(t *testing.T) {
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run(transport, func(t *testing.T) {
			sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
			sw.AddUser(t, "200", "secret-200")
			events, stop := sw.Bus.Subscribe(16)
			defer stop()
			phone := sw.Phone(t, "200", "secret-200", phonetest.Options{Transport: transport, UserAgent: "Yealink SIP-T46U"})

			res := status(t, 200)(phone.Register(ctx(t), 600))
			if c := res.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "expires=600") {
				t.Fatalf("200 should list the binding with expires=600, got %v", c)
			}
			b := sw.Registrar().Lookup("200")
			// Over UDP the phone sends from its listening port; over TCP from the
			// connection's own port, and that connection is where calls go back.
			if len(b) != 1 || b[0].Transport != transport || b[0].UserAgent != "Yealink SIP-T46U" ||
				(transport == "UDP" && b[0].Source != phone.Addr()) || !strings.HasPrefix(b[0].Source, "127.0.0.1:") {
				t.Fatalf("binding = %+v, want one from %s over %s", b, phone.Addr(), transport)
			}
			if e := nextRegistration(events); e.Kind != event.Registered || e.Device != "200" {
				t.Fatalf("event = %+v, want registered 200", e)
			}

			// A refresh keeps one binding and moves its expiry.
			status(t, 200)(phone.Register(ctx(t), 3600))
			b = sw.Registrar().Lookup("200")
			if len(b) != 1 || time.Until(b[0].Expires) < 3500*time.Second {
				t.Fatalf("after refresh binding = %+v", b)
			}

			status(t, 200)(phone.Unregister(ctx(t)))
			if b := sw.Registrar().Lookup("200"); len(b) != 0 {
				t.Fatalf("after unregister: %+v", b)
			}
			if e := nextRegistration(events); e.Kind != event.Unregistered {
				t.Fatalf("event = %+v, want unregistered", e)
			}
		})
	}
}

func TestSeveralBindingsAndWildcard(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	a := sw.Phone(t, "200", "secret-200", phonetest.Options{LocalIP: "127.0.0.1"})
	b := sw.Phone(t, "200", "secret-200", phonetest.Options{LocalIP: "127.0.0.2", Transport: "TCP"})
	status(t, 200)(a.Register(ctx(t), 600))
	res := status(t, 200)(b.Register(ctx(t), 600))
	if n := len(res.GetHeaders("Contact")); n != 2 {
		t.Fatalf("200 lists %d contacts, want 2", n)
	}
	if n := len(sw.Registrar().Lookup("200")); n != 2 {
		t.Fatalf("%d bindings, want 2", n)
	}
	res = status(t, 200)(a.UnregisterAll(ctx(t)))
	if n := len(sw.Registrar().Lookup("200")); n != 0 || len(res.GetHeaders("Contact")) != 0 {
		t.Fatalf("after Contact: * still %d bindings", n)
	}
}

func TestExpiryLimits(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	phone := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	res := status(t, 423)(phone.Register(ctx(t), 30))
	if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
		t.Fatalf("423 without Min-Expires: 60: %v", h)
	}
	res = status(t, 200)(phone.Register(ctx(t), 999999))
	if c := res.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "expires=3600") {
		t.Fatalf("a too long expiry should be cut to 3600: %v", c)
	}
	// A wildcard needs Expires: 0.
	req := phone.NewRegister("*", 60)
	status(t, 400)(phone.Authed(ctx(t), req))
}

func TestBindingExpires(t *testing.T) {
	now := time.Now()
	var clock = func() time.Time { return now }
	_ = clock
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	events, stop := sw.Bus.Subscribe(16)
	defer stop()
	phone := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	// The contact parameter overrides the header; 60 s is the shortest allowed,
	// so drive expiry through the registrar's clock-independent path: register
	// with expires=60 and check the remaining lifetime instead of waiting.
	status(t, 200)(phone.Register(ctx(t), 60))
	b := sw.Registrar().Lookup("200")
	if len(b) != 1 || time.Until(b[0].Expires) > 61*time.Second {
		t.Fatalf("binding = %+v", b)
	}
	<-events
}

// nextRegistration skips what presence publishes on the same bus.
func nextRegistration(events <-chan event.Event) event.Event {
	for e := range events {
		if e.Kind != event.StatusChanged {
			return e
		}
	}
	return event.Event{}
}

func TestWrongPasswordAndUnknownUserLookTheSame(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	wrong := sw.Phone(t, "200", "not-the-password", phonetest.Options{})
	unknown := sw.Phone(t, "299", "whatever-pw", phonetest.Options{})
	r1 := status(t, 403)(wrong.Register(ctx(t), 600))
	r2 := status(t, 403)(unknown.Register(ctx(t), 600))
	if r1.Reason != r2.Reason || len(r1.Headers()) != len(r2.Headers()) {
		t.Fatalf("responses differ:\n%s\n---\n%s", r1, r2)
	}
	// The challenges before them are alike too: realm and algorithms do not depend on the user.
	c1, _ := wrong.Send(ctx(t), wrong.NewRegister("", 600))
	c2, _ := unknown.Send(ctx(t), unknown.NewRegister("", 600))
	if c1.StatusCode != 401 || c2.StatusCode != 401 || len(c1.GetHeaders("WWW-Authenticate")) != len(c2.GetHeaders("WWW-Authenticate")) {
		t.Fatalf("challenges differ:\n%s\n---\n%s", c1, c2)
	}
	if len(sw.Registrar().Lookup("200")) != 0 {
		t.Fatal("a wrong password registered")
	}
}

func TestSHA256Digest(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{Digest: []string{"MD5", "SHA-256"}})
	sw.AddUser(t, "200", "secret-200")
	phone := sw.Phone(t, "200", "secret-200", phonetest.Options{Algorithm: "SHA-256"})
	status(t, 200)(phone.Register(ctx(t), 600))
	bad := sw.Phone(t, "200", "wrong-password", phonetest.Options{Algorithm: "SHA-256"})
	status(t, 403)(bad.Register(ctx(t), 600))
}

func TestDeviceRegistersOnlyItself(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	// 201 authenticates correctly but tries to take over 200's address.
	phone := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	req := phone.NewRegister("", 600)
	req.To().Address.User = "200"
	req.From().Address.User = "200"
	status(t, 403)(phone.Authed(ctx(t), req))
	if len(sw.Registrar().Lookup("200")) != 0 {
		t.Fatal("201 registered as 200")
	}
}

func TestGuessingIsSlowedThenBlockedPerAddress(t *testing.T) {
	limits := auth.Limits{Window: time.Minute, SlowAfter: 2, BlockAfter: 4, SlowStep: time.Millisecond,
		MaxSlow: 5 * time.Millisecond, Block: time.Minute, MaxBlock: time.Hour, MaxTracked: 100}
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{AuthLimits: limits})
	sw.AddUser(t, "200", "secret-200")
	attacker := sw.Phone(t, "200", "guess-guess", phonetest.Options{LocalIP: "127.0.0.9"})
	for i := 0; i < 3; i++ {
		status(t, 403)(attacker.Register(ctx(t), 600))
	}
	// The fourth failure blocks the address: from now on it gets no answer at all.
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	attacker.Register(c, 600)
	c2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if res, err := attacker.Send(c2, attacker.NewRegister("", 600)); err == nil {
		t.Fatalf("blocked address got an answer: %d", res.StatusCode)
	}
	// Even the right password from the blocked address is refused…
	sameIP := sw.Phone(t, "200", "secret-200", phonetest.Options{LocalIP: "127.0.0.9"})
	c3, cancel3 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel3()
	if res, err := sameIP.Register(c3, 600); err == nil && res.StatusCode == 200 {
		t.Fatal("blocked address registered")
	}
	// …but the real phone elsewhere registers as usual.
	phone := sw.Phone(t, "200", "secret-200", phonetest.Options{LocalIP: "127.0.0.1"})
	status(t, 200)(phone.Register(ctx(t), 600))
}

func TestBindingsSurviveRestart(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	p200 := sw.Phone(t, "200", "secret-200", phonetest.Options{UserAgent: "Polycom VVX"})
	p201 := sw.Phone(t, "201", "secret-201", phonetest.Options{Transport: "TCP"})
	status(t, 200)(p200.Register(ctx(t), 3600))
	status(t, 200)(p201.Register(ctx(t), 3600))
	before := sw.Registrar().All()

	sw.Restart(t)

	after := sw.Registrar().All()
	if len(after) != 2 {
		t.Fatalf("after restart %d devices registered, want 2", len(after))
	}
	for id, list := range before {
		got := after[id]
		if len(got) != len(list) || got[0].Contact != list[0].Contact || got[0].Source != list[0].Source ||
			!got[0].Expires.Equal(list[0].Expires) || got[0].UserAgent != list[0].UserAgent {
			t.Fatalf("device %s: before %+v, after %+v", id, list, got)
		}
	}
	// The restarted switch still knows the phone and answers its refresh.
	status(t, 200)(p200.Register(ctx(t), 3600))
}

func TestOptionsAnswered(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	phone := sw.Phone(t, "200", "x", phonetest.Options{})
	req := phone.NewRegister("", -1)
	req.Method = sip.OPTIONS
	req.CSeq().MethodName = sip.OPTIONS
	status(t, 200)(phone.Send(ctx(t), req))
}

// The switch ends a REGISTER's transaction as soon as it answered 200 (see
// HandleRegister); a retransmission that comes after that (the 200 was
// lost) must still get a 200 over the network.
func TestRetransmissionAfterTransactionEnded(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	c, err := net.Dial("udp", sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	reg := func(cseq int, authz string) string {
		return "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + me + ";branch=z9hG4bK-retrans-" + strconv.Itoa(cseq) + ";rport\r\n" +
			"From: <sip:200@127.0.0.1>;tag=1\r\nTo: <sip:200@127.0.0.1>\r\nCall-ID: retrans-test\r\n" +
			"CSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nContact: <sip:200@" + me + ">\r\n" + authz +
			"Expires: 600\r\nContent-Length: 0\r\n\r\n"
	}
	roundTrip := func(msg string) string {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	chal := roundTrip(reg(1, ""))
	i := strings.Index(chal, "WWW-Authenticate: ")
	if i < 0 {
		t.Fatalf("no challenge:\n%s", chal)
	}
	line := chal[i+len("WWW-Authenticate: "):]
	ch, err := digest.ParseChallenge(line[:strings.Index(line, "\r\n")])
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(ch, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1",
		Username: "200", Password: "secret-200", Cnonce: "c", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	authed := reg(2, "Authorization: "+cred.String()+"\r\n")
	for try := range 2 {
		if res := roundTrip(authed); !strings.HasPrefix(res, "SIP/2.0 200 ") || !strings.Contains(res, "expires=600") {
			t.Fatalf("try %d:\n%s", try, res)
		}
	}
	if n := len(sw.Registrar().Lookup("200")); n != 1 {
		t.Fatalf("%d bindings, want 1", n)
	}
}
