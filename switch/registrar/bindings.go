package registrar

import (
	"hash/maphash"
	"slices"
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
	m  map[string][]store.Binding
}

func newTable() *table {
	t := &table{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = map[string][]store.Binding{}
	}
	return t
}

func (t *table) shard(device string) *shard {
	return &t.shards[maphash.String(t.seed, device)%uint64(len(t.shards))]
}

// update runs fn on a device's bindings under its shard lock and stores the result.
func (t *table) update(device string, fn func([]store.Binding) []store.Binding) {
	s := t.shard(device)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := fn(s.m[device])
	if len(list) == 0 {
		delete(s.m, device)
	} else {
		s.m[device] = list
	}
}

// get returns a copy of a device's bindings.
func (t *table) get(device string) []store.Binding {
	s := t.shard(device)
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.m[device])
}

// each calls fn with each of a device's bindings under its shard lock, for
// reading without a copy; fn must be quick and must not keep b.
func (t *table) each(device string, fn func(b *store.Binding)) {
	s := t.shard(device)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.m[device] {
		fn(&s.m[device][i])
	}
}

// expire removes bindings that expired at now and calls gone for each.
func (t *table) expire(now time.Time, gone func(device string, b store.Binding)) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for device, list := range s.m {
			live := list[:0]
			for _, b := range list {
				if b.Expires.After(now) {
					live = append(live, b)
				} else {
					gone(device, b)
				}
			}
			if len(live) == 0 {
				delete(s.m, device)
			} else {
				s.m[device] = live
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
		for _, l := range s.m {
			bindings += len(l)
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
		for d, l := range s.m {
			out[d] = slices.Clone(l)
		}
		s.mu.Unlock()
	}
	return out
}
