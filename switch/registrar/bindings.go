package registrar

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"switchboard/store"
)

// table holds every device's live bindings in memory, sharded so that
// thousands of REGISTERs a second do not queue on one lock.
type table struct {
	seed   maphash.Seed
	shards [64]shard
}

type shard struct {
	mu sync.Mutex
	m  map[string]*device // by device id
}

// device is one device's bindings under the id the table keeps: its own
// copy, since the id a REGISTER names shares that request's memory.
type device struct {
	id   string
	list []store.Binding
}

func newTable() *table {
	t := &table{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = map[string]*device{}
	}
	return t
}

func (t *table) shard(device string) *shard {
	return &t.shards[maphash.String(t.seed, device)%uint64(len(t.shards))]
}

// update runs fn on a device's bindings under its shard lock and stores the
// result. fn and the caller get the id as the table keeps it.
func (t *table) update(id string, fn func(id string, list []store.Binding) []store.Binding) string {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.m[id]
	if d == nil {
		d = &device{id: strings.Clone(id)}
	}
	list := fn(d.id, d.list)
	switch {
	case len(list) == 0:
		delete(s.m, d.id)
	case d.list == nil:
		d.list = list
		s.m[d.id] = d
	default:
		d.list = list
	}
	return d.id
}

func (s *shard) list(id string) []store.Binding {
	if d := s.m[id]; d != nil {
		return d.list
	}
	return nil
}

// get returns a copy of a device's bindings.
func (t *table) get(device string) []store.Binding {
	s := t.shard(device)
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list(device))
}

// each calls fn with each of a device's bindings under its shard lock, for
// reading without a copy; fn must be quick and must not keep b.
func (t *table) each(device string, fn func(b *store.Binding)) {
	s := t.shard(device)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.list(device)
	for i := range list {
		fn(&list[i])
	}
}

// eachBinding calls fn with every binding, one shard locked at a time,
// without copying; fn must be quick and must not keep b.
func (t *table) eachBinding(fn func(device string, b *store.Binding)) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, d := range s.m {
			for j := range d.list {
				fn(d.id, &d.list[j])
			}
		}
		s.mu.Unlock()
	}
}

// expire removes bindings that expired at now and calls gone for each.
func (t *table) expire(now time.Time, gone func(device string, b store.Binding)) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, d := range s.m {
			live := d.list[:0]
			for _, b := range d.list {
				if b.Expires.After(now) {
					live = append(live, b)
				} else {
					gone(d.id, b)
				}
			}
			if len(live) == 0 {
				delete(s.m, id)
			} else {
				d.list = live
			}
		}
		s.mu.Unlock()
	}
}

// counts returns how many devices are registered and how many bindings exist.
func (t *table) counts() (devices, bindings int) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		devices += len(s.m)
		for _, d := range s.m {
			bindings += len(d.list)
		}
		s.mu.Unlock()
	}
	return devices, bindings
}

// all returns a copy of every device's bindings.
func (t *table) all() map[string][]store.Binding {
	out := map[string][]store.Binding{}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, d := range s.m {
			out[d.id] = slices.Clone(d.list)
		}
		s.mu.Unlock()
	}
	return out
}
