package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// How much of sipgo's logging reaches the switch's log.
const (
	maxLogValue = 200         // bytes of one string value; the rest is cut
	logBurst    = 10          // records with the same message per logWindow
	logWindow   = time.Minute // after which the count starts again
	maxLogKinds = 256         // distinct messages tracked before starting over
)

// sipgoLogger is the logger given to sipgo. Left alone, sipgo's transport
// and transaction layers log to slog.Default, and they log every message
// they cannot parse at Error with the whole datagram — which SIP scanners
// and broken peers send all day, so one garbage sender could fill the disk.
// Through this logger their records go to the switch's log, string values
// are cut to maxLogValue bytes, and each message is logged at most logBurst
// times per logWindow; the next one logged says how many were suppressed.
func sipgoLogger(base *slog.Logger, now func() time.Time) *slog.Logger {
	return slog.New(&quietHandler{next: base.Handler(), lim: &logLimiter{now: now, seen: map[string]*logCount{}}})
}

type quietHandler struct {
	next slog.Handler
	lim  *logLimiter // shared by the handlers derived with WithAttrs and WithGroup
}

func (h *quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	suppressed, ok := h.lim.allow(r.Message)
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(shorten(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, out)
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	short := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		short[i] = shorten(a)
	}
	return &quietHandler{next: h.next.WithAttrs(short), lim: h.lim}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{next: h.next.WithGroup(name), lim: h.lim}
}

// shorten cuts long strings, also inside groups and in values that print
// themselves (errors, []byte, Stringers).
func shorten(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		group := v.Group()
		short := make([]any, len(group))
		for i, g := range group {
			short[i] = shorten(g)
		}
		return slog.Group(a.Key, short...)
	case slog.KindString:
		return slog.String(a.Key, cut(v.String()))
	case slog.KindAny:
		if s := fmt.Sprint(v.Any()); len(s) > maxLogValue {
			return slog.String(a.Key, cut(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func cut(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:maxLogValue], len(s))
}

// logLimiter counts records per message in fixed windows.
type logLimiter struct {
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]*logCount
}

type logCount struct {
	start      time.Time
	n          int // logged in this window
	suppressed int // dropped since the last one logged
}

// allow says whether a record with message msg is logged, and how many
// with that message were dropped before it.
func (l *logLimiter) allow(msg string) (suppressed int, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.seen[msg]
	if c == nil {
		if len(l.seen) >= maxLogKinds {
			clear(l.seen)
		}
		c = &logCount{start: now}
		l.seen[msg] = c
	}
	if now.Sub(c.start) >= logWindow {
		c.start, c.n = now, 0
	}
	if c.n >= logBurst {
		c.suppressed++
		return 0, false
	}
	c.n++
	suppressed, c.suppressed = c.suppressed, 0
	return suppressed, true
}
