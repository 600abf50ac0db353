package cli

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress reports bytes moved on stderr when stderr is a terminal; on
// anything else (a pipe, a log, CI) it stays silent.
type progress struct {
	label string
	out   io.Writer
	total atomic.Int64
	done  atomic.Int64
	stop  chan struct{}
	ended chan struct{}
}

func startProgress(label string, stderr io.Writer) *progress {
	p := &progress{label: label, out: stderr, stop: make(chan struct{}), ended: make(chan struct{})}
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		close(p.ended)
		return p
	}
	go func() {
		defer close(p.ended)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.print()
				fmt.Fprintln(p.out)
				return
			case <-t.C:
				p.print()
			}
		}
	}()
	return p
}

func (p *progress) print() {
	done, total := p.done.Load(), p.total.Load()
	if total > 0 {
		fmt.Fprintf(p.out, "\r%s: %s of %s (%d%%)   ", p.label, mib(done), mib(total), done*100/total)
	} else {
		fmt.Fprintf(p.out, "\r%s: %s   ", p.label, mib(done))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Finish stops the display.
func (p *progress) Finish() {
	select {
	case <-p.ended:
	default:
		close(p.stop)
		<-p.ended
	}
}

// Writer counts what passes through to w.
func (p *progress) Writer(w io.Writer) io.Writer { return countingWriter{w, p} }

// Reader counts what is read from r.
func (p *progress) Reader(r io.Reader) io.Reader { return countingReader{r, p} }

type countingWriter struct {
	w io.Writer
	p *progress
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.done.Add(int64(n))
	return n, err
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.done.Add(int64(n))
	return n, err
}
