package audioimport

import "math"

// Filter design of the resampler: the pass band ends at passHz, the stop band
// starts at stopHz (the 8 kHz Nyquist frequency, so nothing above it folds
// back), and the stop band is at least stopDB down (Kaiser's formulas).
const (
	passHz    = 3400
	stopHz    = 4000
	stopDB    = 65
	maxPhases = 128 // filter phases kept for rates with no small ratio to 8 kHz
)

// resampler low-passes and resamples a stream of mono samples at one rate to
// outRate, keeping only the window of input the filter still needs. Output
// sample n sits at input position n·m/l (l/m is outRate/inRate in lowest
// terms); the filter row for that position's fraction is precomputed, so one
// output sample costs one dot product of taps samples. A rate with no small
// ratio to 8 kHz (l > maxPhases, e.g. 44101 Hz) gets maxPhases+1 rows and
// interpolates linearly between the two nearest.
type resampler struct {
	l, m     int64
	phases   int64
	taps     int
	table    []float32 // phases rows of taps coefficients
	buf      []float32 // input from index bufStart on
	bufStart int64
	total    int64 // input samples written
	n        int64 // next output sample
	out      []float32
	copyOnly bool
}

func newResampler(inRate, outRate int, outCap int) *resampler {
	r := &resampler{out: make([]float32, 0, outCap)}
	if inRate == outRate {
		r.copyOnly = true
		return r
	}
	g := gcd(int64(inRate), int64(outRate))
	r.l, r.m = int64(outRate)/g, int64(inRate)/g
	r.phases = min(r.l, maxPhases)
	rows := r.phases
	if r.phases != r.l {
		rows++ // the row for a fraction of 1, to interpolate towards
	}

	fs := float64(inRate)
	dw := 2 * math.Pi * (stopHz - passHz) / fs
	r.taps = int(math.Ceil((stopDB-8)/(2.285*dw))) + 1
	r.taps += r.taps % 2
	beta := 0.1102 * (stopDB - 8.7)
	fc := (passHz + stopHz) / 2 / fs // cut-off in cycles per input sample
	half := float64(r.taps) / 2
	r.table = make([]float32, int(rows)*r.taps)
	row := make([]float64, r.taps)
	for p := range rows {
		frac := float64(p) / float64(r.phases)
		var sum float64
		for j := range row {
			t := frac + half - 1 - float64(j) // distance from the output position, in input samples
			row[j] = 2 * fc * sinc(2*fc*t) * kaiser(t/half, beta)
			sum += row[j]
		}
		for j, c := range row {
			r.table[int(p)*r.taps+j] = float32(c / sum) // unity gain at DC for every phase
		}
	}
	left := r.taps/2 - 1
	r.buf = make([]float32, left, left+8192) // the signal is silent before it starts
	r.bufStart = -int64(left)
	return r
}

// write feeds input samples and produces every output sample they complete.
func (r *resampler) write(in []float32) {
	r.total += int64(len(in))
	if r.copyOnly {
		r.out = append(r.out, in...)
		return
	}
	r.buf = append(r.buf, in...)
	r.drain()
}

// flush produces the output still held back by the filter's look-ahead.
func (r *resampler) flush() []float32 {
	if !r.copyOnly {
		r.buf = append(r.buf, make([]float32, r.taps)...)
		r.drain()
	}
	return r.out
}

func (r *resampler) drain() {
	left := int64(r.taps/2 - 1)
	end := r.bufStart + int64(len(r.buf))
	for {
		pos := r.n * r.m
		base, rem := pos/r.l, pos%r.l
		if base >= r.total {
			break // past the end of the input: the rest comes with more input
		}
		first := base - left
		if first+int64(r.taps) > end {
			break
		}
		x := r.buf[first-r.bufStart:][:r.taps]
		var acc float32
		if r.phases == r.l {
			h := r.table[int(rem)*r.taps:][:r.taps]
			for j, c := range h {
				acc += c * x[j]
			}
		} else {
			p := rem * r.phases / r.l
			w := float32(rem*r.phases-p*r.l) / float32(r.l)
			h0 := r.table[int(p)*r.taps:][:r.taps]
			h1 := r.table[int(p+1)*r.taps:][:r.taps]
			for j, c := range h0 {
				acc += (c + w*(h1[j]-c)) * x[j]
			}
		}
		r.out = append(r.out, acc)
		r.n++
	}
	// Drop the input no later output sample reaches.
	keep := r.n*r.m/r.l - left - 1
	if drop := keep - r.bufStart; drop > 0 && drop <= int64(len(r.buf)) {
		r.buf = r.buf[:copy(r.buf, r.buf[drop:])]
		r.bufStart = keep
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window at x in [-1, 1].
func kaiser(x, beta float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return besselI0(beta*math.Sqrt(1-x*x)) / besselI0(beta)
}

// besselI0 is the modified Bessel function of the first kind, order 0.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
