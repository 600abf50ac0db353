package webauth

import (
	"sync"
	"time"
)

// Policy says how a Limiter treats one key's failed attempts.
type Policy struct {
	Free    int           // failures allowed without any delay
	Lockout int           // failures (within Forget) that lock the key out
	LockFor time.Duration // the first lockout; each further one doubles, up to MaxLock
	MaxLock time.Duration
	Forget  time.Duration // a key with no failure for this long starts over
}

// Limiter slows down, then refuses, keys (an account, an address) that keep
// failing: after Free failures each attempt must wait 1 s, 2 s, 4 s, … (at
// most a minute) after the last failure, and Lockout failures lock the key
// for LockFor. It lives in memory: a restart forgets it, which costs an
// attacker a restart they cannot cause.
type Limiter struct {
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	fails     int
	locks     int
	lastFail  time.Time
	lockUntil time.Time
}

// maxEntries bounds the memory a flood of distinct keys can take.
const maxEntries = 100_000

// maxDelay caps the slow-down between attempts before a lockout.
const maxDelay = time.Minute

// NewLimiter returns a limiter with policy p; now is the clock (time.Now if nil).
func NewLimiter(p Policy, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{policy: p, now: now, entries: map[string]*limitEntry{}}
}

// Wait returns how long key must wait before its next attempt; 0 means it
// may try now.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entry(key, now, false)
	if e == nil {
		return 0
	}
	if now.Before(e.lockUntil) {
		return e.lockUntil.Sub(now)
	}
	if over := e.fails - l.policy.Free; over > 0 {
		delay := min(time.Second<<min(over-1, 10), maxDelay)
		if next := e.lastFail.Add(delay); now.Before(next) {
			return next.Sub(now)
		}
	}
	return 0
}

// Fail records a failed attempt of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entry(key, now, true)
	e.fails++
	e.lastFail = now
	if e.fails >= l.policy.Lockout {
		lock := l.policy.LockFor << min(e.locks, 16)
		if l.policy.MaxLock > 0 && lock > l.policy.MaxLock {
			lock = l.policy.MaxLock
		}
		e.lockUntil = now.Add(lock)
		e.locks++
		e.fails = l.policy.Free // after the lockout, every attempt is slowed down again
	}
}

// Succeed forgets key's failures.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// entry returns key's live entry, dropping a forgotten one; with create it
// makes one.
func (l *Limiter) entry(key string, now time.Time, create bool) *limitEntry {
	e := l.entries[key]
	if e != nil && now.After(e.lockUntil) && now.Sub(e.lastFail) > l.policy.Forget {
		delete(l.entries, key)
		e = nil
	}
	if e == nil && create {
		if len(l.entries) >= maxEntries {
			l.prune(now)
		}
		e = &limitEntry{}
		l.entries[key] = e
	}
	return e
}

// prune drops forgotten entries, and if that is not enough, every entry
// that is not locked out.
func (l *Limiter) prune(now time.Time) {
	for k, e := range l.entries {
		if now.After(e.lockUntil) && now.Sub(e.lastFail) > l.policy.Forget {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < maxEntries*9/10 {
		return
	}
	for k, e := range l.entries {
		if now.After(e.lockUntil) {
			delete(l.entries, k)
		}
	}
}
