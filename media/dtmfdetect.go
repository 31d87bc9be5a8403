package media

import "math"

// In-band DTMF (ITU-T Q.23/Q.24) for peers that did not negotiate
// telephone-event: Goertzel filters at the eight DTMF frequencies over
// 25.6 ms windows (the classic 205 samples at 8 kHz) every 10 ms.
const (
	dtmfWindow = 410 // 25.6 ms at 16 kHz: 39 Hz bins separate 697 from 770
	dtmfHop    = SampleRate / 100
	// dtmfMinPower is the Goertzel power of a tone at -43 dBFS.
	dtmfMinPower = 1e-5
	// dtmfMaxTwist is 8 dB between the row and column tones.
	dtmfMaxTwist = 6.3
	// dtmfPurity is the share of the window's energy the two tones must
	// carry; speech spreads its energy over many harmonics.
	dtmfPurity = 0.75
	// dtmfRelPeak: the strongest row (column) beats the others by 8 dB.
	dtmfRelPeak = 6.3
	// dtmfRelease is how many windows (10 ms each) without a digit end
	// its press.
	dtmfRelease = 4
)

var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
	dtmfCoeffs = func() (c [8]float64) {
		for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
			c[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
		}
		return c
	}()
)

// dtmfDetector turns 20 ms frames into key presses: a digit is reported
// once it is seen in two windows running (about 40 ms of tone) and again
// only after 40 ms without it (Q.24's shortest pause between digits), so
// that a frame lost or concealed inside a tone (a loaded receiver's jitter
// buffer) does not make one key press two.
type dtmfDetector struct {
	win   [dtmfWindow]int16
	fill  int
	cand  rune // digit of the current run of windows
	run   int
	last  rune // digit last reported, until released
	quiet int  // windows since last was seen
}

// process feeds one frame; emit receives each new digit.
func (d *dtmfDetector) process(frame []int16, emit func(rune)) {
	for len(frame) > 0 {
		n := min(len(frame), dtmfHop)
		copy(d.win[:], d.win[n:])
		copy(d.win[dtmfWindow-n:], frame[:n])
		frame = frame[n:]
		if d.fill < dtmfWindow {
			d.fill += n
			if d.fill < dtmfWindow {
				continue
			}
		}
		d.step(detectDTMF(d.win[:]), emit)
	}
}

func (d *dtmfDetector) step(dg rune, emit func(rune)) {
	if dg != 0 && dg == d.cand {
		d.run++
	} else {
		d.cand, d.run = dg, 1
	}
	if dg != d.last {
		if d.quiet++; d.quiet >= dtmfRelease {
			d.last = 0
		}
	} else {
		d.quiet = 0
	}
	if d.cand != 0 && d.run >= 2 && d.cand != d.last {
		emit(d.cand)
		d.last, d.quiet = d.cand, 0
	}
}

// detectDTMF returns the key whose two tones dominate pcm, or 0.
func detectDTMF(pcm []int16) rune {
	var energy float64
	var s1, s2 [8]float64
	for _, x := range pcm {
		v := float64(x) / 32768
		energy += v * v
		for k := range 8 {
			s := v + dtmfCoeffs[k]*s1[k] - s2[k]
			s2[k], s1[k] = s1[k], s
		}
	}
	n := float64(len(pcm))
	energy /= n
	if energy == 0 {
		return 0
	}
	var p [8]float64
	for k := range 8 {
		p[k] = (s1[k]*s1[k] + s2[k]*s2[k] - dtmfCoeffs[k]*s1[k]*s2[k]) / (n * n)
	}
	r, c := peak4(p[:4]), peak4(p[4:])
	pr, pc := p[r], p[4+c]
	if pr < dtmfMinPower || pc < dtmfMinPower {
		return 0
	}
	if pr > pc*dtmfMaxTwist || pc > pr*dtmfMaxTwist {
		return 0
	}
	for k := range 4 {
		if k != r && p[k]*dtmfRelPeak > pr || k != c && p[4+k]*dtmfRelPeak > pc {
			return 0
		}
	}
	// A sine of power p carries 2p of mean-square energy.
	if 2*(pr+pc) < dtmfPurity*energy {
		return 0
	}
	return dtmfKeys[r][c]
}

func peak4(p []float64) int {
	best := 0
	for i := 1; i < 4; i++ {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}
