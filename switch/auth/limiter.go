package auth

import (
	"sync"
	"time"
)

// Limits says how a source address that keeps failing authentication is
// treated: after SlowAfter failures within Window its answers are delayed,
// after BlockAfter it is refused for Block (doubling on each repeat, up to
// MaxBlock). Only the failing address is affected, never a phone elsewhere.
type Limits struct {
	Window     time.Duration
	SlowAfter  int
	BlockAfter int
	SlowStep   time.Duration // added delay per failure past SlowAfter
	MaxSlow    time.Duration
	Block      time.Duration
	MaxBlock   time.Duration
	MaxTracked int // addresses remembered at most; the oldest quiet ones go first
}

// DefaultLimits suit an office LAN: a mistyped password on a phone is
// harmless, a guessing script is stopped within a few seconds.
var DefaultLimits = Limits{
	Window:     10 * time.Minute,
	SlowAfter:  5,
	BlockAfter: 20,
	SlowStep:   200 * time.Millisecond,
	MaxSlow:    2 * time.Second,
	Block:      5 * time.Minute,
	MaxBlock:   time.Hour,
	MaxTracked: 100_000,
}

// Limiter counts authentication failures per source address.
type Limiter struct {
	lim Limits
	now func() time.Time
	mu  sync.Mutex
	ips map[string]*ipRecord
}

type ipRecord struct {
	fails        int
	first, last  time.Time
	blockedUntil time.Time
	strikes      int // how many times this address was blocked
}

// NewLimiter returns a Limiter; a zero Limits means DefaultLimits.
func NewLimiter(l Limits, now func() time.Time) *Limiter {
	if l == (Limits{}) {
		l = DefaultLimits
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{lim: l, now: now, ips: map[string]*ipRecord{}}
}

// Blocked reports whether ip is currently refused.
func (l *Limiter) Blocked(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ips[ip]
	return r != nil && l.now().Before(r.blockedUntil)
}

// Fail records a failure from ip and returns how long to delay the answer.
func (l *Limiter) Fail(ip string) (delay time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ips[ip]
	if r == nil {
		if len(l.ips) >= l.lim.MaxTracked {
			l.prune(now)
		}
		r = &ipRecord{first: now}
		l.ips[ip] = r
	}
	if now.Sub(r.first) > l.lim.Window {
		r.fails, r.first = 0, now
	}
	r.fails++
	r.last = now
	if r.fails >= l.lim.BlockAfter {
		block := l.lim.Block << min(r.strikes, 20)
		r.blockedUntil = now.Add(min(block, l.lim.MaxBlock))
		r.strikes++
		r.fails, r.first = 0, now
		return 0
	}
	if r.fails > l.lim.SlowAfter {
		return min(time.Duration(r.fails-l.lim.SlowAfter)*l.lim.SlowStep, l.lim.MaxSlow)
	}
	return 0
}

// prune makes room for new addresses: it forgets those neither blocked nor
// failed recently, then, while more than half the room is taken, others
// that are not blocked, and at last blocked ones too (an attacker with more
// addresses than the room may then try again; it is blocked again after
// BlockAfter failures). Down to half, so the cost per failure stays the
// same however the addresses come. Called with mu held.
func (l *Limiter) prune(now time.Time) {
	for ip, r := range l.ips {
		if now.After(r.blockedUntil) && now.Sub(r.last) > l.lim.Window {
			delete(l.ips, ip)
		}
	}
	half := l.lim.MaxTracked / 2
	for _, evenBlocked := range []bool{false, true} {
		for ip, r := range l.ips {
			if len(l.ips) <= half {
				return
			}
			if evenBlocked || now.After(r.blockedUntil) {
				delete(l.ips, ip)
			}
		}
	}
}
