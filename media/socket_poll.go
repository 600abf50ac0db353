package media

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// maxPollLoops bounds the read loops of an engine (and so does GOMAXPROCS):
// enough to spread thousands of calls over the cores.
const maxPollLoops = 4

// loopPairs is how many port pairs (about 500 calls) a read loop takes
// before the next one starts: one loop for all is cheapest per packet, as
// each wake-up finds more sockets ready (7.1–8.0 µs a relayed packet at 500
// calls against 8.3–10.3 µs with two loops, BenchmarkRelayManySockets), but
// one loop is one core at most.
const loopPairs = 1000

// pollEvents is how many ready sockets one epoll_wait returns at most.
const pollEvents = 128

// wakeID is the epoll data of a loop's eventfd; socket ids are below it.
const wakeID = -1

// pollLoops reads every RTP and RTCP socket of an engine. Each socket pair
// belongs to one loop: the running loop with the fewest pairs, or a new one
// when every running loop has loopPairs already. A loop runs while it has
// pairs, so an engine with none has no goroutine.
type pollLoops struct {
	log   *slog.Logger
	mu    sync.Mutex
	loops []*pollLoop // nil: not running
	count []int       // socket pairs of each loop
}

func newPollLoops(log *slog.Logger) pollLoops {
	n := min(runtime.GOMAXPROCS(0), maxPollLoops)
	return pollLoops{log: log, loops: make([]*pollLoop, n), count: make([]int, n)}
}

// add makes a loop read s's two sockets, starting that loop if need be.
func (g *pollLoops) add(s *sockets) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := g.pick()
	if g.loops[i] == nil {
		l, err := startPollLoop(g.log)
		if err != nil {
			return err
		}
		g.loops[i] = l
	}
	if err := g.loops[i].add(s); err != nil {
		if g.count[i] == 0 {
			g.loops[i].stop()
			g.loops[i] = nil
		}
		return err
	}
	s.loop = i
	g.count[i]++
	return nil
}

// pick chooses the loop for a new pair.
func (g *pollLoops) pick() int {
	i, idle := -1, -1
	for j, l := range g.loops {
		switch {
		case l == nil:
			if idle < 0 {
				idle = j
			}
		case i < 0 || g.count[j] < g.count[i]:
			i = j
		}
	}
	if i < 0 || (g.count[i] >= loopPairs && idle >= 0) {
		return idle
	}
	return i
}

// remove stops reading s's sockets; once it returns, its loop no longer
// reads them. The loop ends with its last pair, and remove waits for it.
func (g *pollLoops) remove(s *sockets) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.loops[s.loop]
	l.remove(s)
	if g.count[s.loop]--; g.count[s.loop] == 0 {
		l.stop()
		g.loops[s.loop] = nil
	}
}

// pollLoop is one goroutine waiting in epoll_wait (level-triggered) on its
// sockets and reading one datagram from each ready one a round, in place of
// a goroutine per socket parked in Go's netpoller: that cost a wake-up, a
// context switch and a read failing with EAGAIN per packet. Handlers run on
// it, so they must not block (see OnDTMF).
type pollLoop struct {
	epfd, wakefd int
	done         chan struct{}

	mu    sync.RWMutex // guards socks and free; the loop read-locks it once a round
	socks []*sockets   // by id; nil: free
	free  []int32

	// Owned by the loop goroutine.
	events [pollEvents]unix.EpollEvent
	ready  [pollEvents]*sockets
	from   rawFrom
	sc     scratch
}

func startPollLoop(log *slog.Logger) (*pollLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeID}); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	l := &pollLoop{epfd: epfd, wakefd: wakefd, done: make(chan struct{})}
	go l.run(log)
	return l, nil
}

// stop ends the loop and waits for it; it must have no socket left.
func (l *pollLoop) stop() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1) // an eventfd counter is host-endian
	unix.Write(l.wakefd, one[:])
	<-l.done
	unix.Close(l.epfd)
	unix.Close(l.wakefd)
}

// add registers s's sockets under a new id: RTP as 2·id, RTCP as 2·id+1.
func (l *pollLoop) add(s *sockets) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var id int32
	if n := len(l.free); n > 0 {
		id, l.free = l.free[n-1], l.free[:n-1]
	} else {
		id = int32(len(l.socks))
		l.socks = append(l.socks, nil)
	}
	err := l.ctl(unix.EPOLL_CTL_ADD, s.rtp, 2*id)
	if err == nil {
		if err = l.ctl(unix.EPOLL_CTL_ADD, s.rtcp, 2*id+1); err != nil {
			l.ctl(unix.EPOLL_CTL_DEL, s.rtp, 0)
		}
	}
	if err != nil {
		l.free = append(l.free, id)
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.socks[id], s.pollID = s, id
	return nil
}

// remove unregisters s; a round that looked it up before may still read
// it, which is harmless (closed sockets return an error; open ones EAGAIN).
func (l *pollLoop) remove(s *sockets) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ctl(unix.EPOLL_CTL_DEL, s.rtp, 0)
	l.ctl(unix.EPOLL_CTL_DEL, s.rtcp, 0)
	l.socks[s.pollID] = nil
	l.free = append(l.free, s.pollID)
}

func (l *pollLoop) ctl(op int, u *udpSock, data int32) error {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if u.fd < 0 {
		return errors.New("socket closed")
	}
	return unix.EpollCtl(l.epfd, op, u.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: data})
}

func (l *pollLoop) run(log *slog.Logger) {
	defer close(l.done)
	for {
		n, err := unix.EpollWait(l.epfd, l.events[:], -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			log.Error("rtp read loop stopped", "err", os.NewSyscallError("epoll_wait", err)) // EBADF, EFAULT: a bug of ours
			return
		}
		stop := false
		l.mu.RLock()
		for i, ev := range l.events[:n] {
			if ev.Fd == wakeID {
				stop = true
			} else {
				l.ready[i] = l.socks[ev.Fd/2]
			}
		}
		l.mu.RUnlock()
		for i, ev := range l.events[:n] {
			if s := l.ready[i]; s != nil {
				if ev.Fd%2 == 0 {
					s.readRTP(&l.from, &l.sc)
				} else {
					s.readRTCP(l.sc.rxBuf[:], &l.from)
				}
			}
		}
		clear(l.ready[:n]) // keep no closed pair alive until the next round
		if stop {
			return
		}
	}
}
