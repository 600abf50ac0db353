package auth

import (
	"testing"
	"time"
)

func TestLimiterSlowsThenBlocksOneAddress(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	l := NewLimiter(Limits{Window: time.Minute, SlowAfter: 2, BlockAfter: 5, SlowStep: 100 * time.Millisecond,
		MaxSlow: 250 * time.Millisecond, Block: 10 * time.Second, MaxBlock: 25 * time.Second, MaxTracked: 10}, c.Now)
	wantDelays := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, want := range wantDelays {
		if got := l.Fail("10.0.0.1"); got != want {
			t.Fatalf("failure %d: delay %v, want %v", i+1, got, want)
		}
	}
	if l.Blocked("10.0.0.1") {
		t.Fatal("blocked too early")
	}
	l.Fail("10.0.0.1") // the fifth
	if !l.Blocked("10.0.0.1") {
		t.Fatal("not blocked after 5 failures")
	}
	if l.Blocked("10.0.0.2") {
		t.Fatal("another address is blocked too")
	}
	c.now = c.now.Add(11 * time.Second)
	if l.Blocked("10.0.0.1") {
		t.Fatal("still blocked after the block period")
	}
	// A repeat offender is blocked twice as long, up to MaxBlock.
	for range 5 {
		l.Fail("10.0.0.1")
	}
	c.now = c.now.Add(15 * time.Second)
	if !l.Blocked("10.0.0.1") {
		t.Fatal("second block should last 20 s")
	}
	c.now = c.now.Add(6 * time.Second)
	if l.Blocked("10.0.0.1") {
		t.Fatal("second block lasted more than 20 s")
	}
}

func TestLimiterForgetsOldFailures(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	l := NewLimiter(Limits{Window: time.Minute, SlowAfter: 2, BlockAfter: 3, SlowStep: time.Millisecond,
		MaxSlow: time.Millisecond, Block: time.Minute, MaxBlock: time.Hour, MaxTracked: 10}, c.Now)
	l.Fail("10.0.0.1")
	l.Fail("10.0.0.1")
	c.now = c.now.Add(2 * time.Minute) // a mistyped password yesterday is not held against anyone
	l.Fail("10.0.0.1")
	if l.Blocked("10.0.0.1") {
		t.Fatal("failures outside the window counted")
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	l := NewLimiter(Limits{Window: time.Minute, SlowAfter: 2, BlockAfter: 3, SlowStep: time.Millisecond,
		MaxSlow: time.Millisecond, Block: time.Minute, MaxBlock: time.Hour, MaxTracked: 100}, c.Now)
	for i := range 10_000 {
		l.Fail("10.0." + string(rune('a'+i%26)) + "." + itoa(i))
	}
	if n := len(l.ips); n > 100 {
		t.Fatalf("tracking %d addresses, bound is 100", n)
	}
}

// Blocked addresses fill the room too: more of them than it holds (a
// spoofing script, IPv6) still leaves it bounded.
func TestLimiterStaysBoundedWhenAllAreBlocked(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	l := NewLimiter(Limits{Window: time.Minute, SlowAfter: 2, BlockAfter: 3, SlowStep: time.Millisecond,
		MaxSlow: time.Millisecond, Block: time.Hour, MaxBlock: time.Hour, MaxTracked: 100}, c.Now)
	for i := range 5_000 {
		ip := "10.1." + itoa(i/250) + "." + itoa(i%250)
		for range 3 {
			l.Fail(ip)
		}
		if !l.Blocked(ip) {
			t.Fatalf("%s not blocked after 3 failures", ip)
		}
		if n := len(l.ips); n > 100 {
			t.Fatalf("tracking %d addresses, bound is 100", n)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
