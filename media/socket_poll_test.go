package media

import (
	"net"
	"testing"
)

// A new pair goes to the least loaded running loop; another loop starts only
// once every running one has loopPairs.
func TestPollLoopsPick(t *testing.T) {
	run := &pollLoop{}
	for _, tt := range []struct {
		name  string
		loops []*pollLoop
		count []int
		want  int
	}{
		{"none running: the first", []*pollLoop{nil, nil}, []int{0, 0}, 0},
		{"one running with room", []*pollLoop{run, nil}, []int{loopPairs - 1, 0}, 0},
		{"one running and full: start the next", []*pollLoop{run, nil}, []int{loopPairs, 0}, 1},
		{"the one running is not the first", []*pollLoop{nil, run}, []int{0, 10}, 1},
		{"least loaded of those running", []*pollLoop{run, run, nil}, []int{loopPairs + 5, loopPairs + 2, 0}, 2},
		{"all running and full: least loaded", []*pollLoop{run, run}, []int{loopPairs + 5, loopPairs + 2}, 1},
		{"one loop only, full", []*pollLoop{run}, []int{loopPairs * 3}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := pollLoops{loops: tt.loops, count: tt.count}
			if got := g.pick(); got != tt.want {
				t.Errorf("pick = %d, want %d", got, tt.want)
			}
		})
	}
}

// A loop starts with its first pair and ends with its last: an engine with
// no socket has no goroutine.
func TestPollLoopLifetime(t *testing.T) {
	e, err := NewEngine(Config{BindIP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	running := func() (n int) {
		e.loops.mu.Lock()
		defer e.loops.mu.Unlock()
		for i, l := range e.loops.loops {
			if l != nil {
				n += e.loops.count[i]
			}
		}
		return n
	}
	if n := running(); n != 2 {
		t.Fatalf("%d pairs in running loops, want 2", n)
	}
	a.Close()
	if n := running(); n != 1 {
		t.Fatalf("after one Close: %d pairs in running loops, want 1", n)
	}
	b.Close()
	for i, l := range e.loops.loops {
		if l != nil {
			t.Errorf("loop %d still runs with no socket", i)
		}
	}
}
