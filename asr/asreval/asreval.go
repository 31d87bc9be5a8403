package asreval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
)

// Summary is the outcome of a Run.
type Summary struct {
	Files    int
	RefWords int
	Errors   int           // substitutions + deletions + insertions
	Audio    time.Duration // total audio
	Decode   time.Duration // total time in Recognize
	WER      float64       // Errors / RefWords
	RTF      float64       // Decode / Audio
	// DecodeCPU is this process's CPU time while in Recognize: on a
	// shared machine a steadier measure of the decoder's cost than RTF.
	DecodeCPU  time.Duration
	CPURTF     float64 // DecodeCPU / Audio
	FailedRead int     // files that could not be read (counted as all deleted)

	// OOV is the share of reference words the recogniser's vocabulary
	// lacks, when it tells its vocabulary (see Vocabularian); else -1.
	OOV      float64
	OOVWords int
	// Latency of the streaming pass (Options.Latency): from the moment
	// the audio completing the end-of-speech silence was written to the
	// Final. Zero without that pass.
	LatP50, LatP95, LatMax time.Duration
	Finals                 int     // Finals the streaming pass received
	StreamWER              float64 // WER of the streaming pass's Finals
}

// Options change how Run measures.
type Options struct {
	// Narrowband sends every file through an 8 kHz G.711 µ-law channel
	// (as a PCMU call leg does) and asks the recogniser for its
	// narrowband model (asr.StreamOptions.Narrowband).
	Narrowband bool
	// Latency adds a streaming pass: each file, after 300 ms and before
	// SilenceEnd+400 ms of near-silence, is written to a Stream in 20 ms frames paced in real
	// time, and the time from end of speech (+ SilenceEnd) to each Final
	// is measured. It takes as long as the audio.
	Latency bool
	// SilenceEnd is the recogniser's configured end-of-speech silence
	// (default 600 ms, the vad default).
	SilenceEnd time.Duration
}

// OptionsRecognizer is a Recognizer that can transcribe an utterance as
// from a particular kind of stream, e.g. a narrowband one.
type OptionsRecognizer interface {
	RecognizeOptions(ctx context.Context, pcm []int16, opts asr.StreamOptions) (asr.Result, error)
}

// Vocabularian is a Recognizer that tells the words it can recognise
// (nil: unknown).
type Vocabularian interface {
	Vocabulary() []string
}

// Run transcribes every file of the list at listPath with rec and writes
// one line per file and the closing WER/RTF line to out.
func Run(ctx context.Context, rec asr.Recognizer, listPath string, out io.Writer) (Summary, error) {
	return RunOptions(ctx, rec, listPath, out, Options{})
}

// RunOptions is Run with options. Before the closing WER/RTF line it
// prints "OOV=…" when the recogniser tells its vocabulary and
// "LAT_P50=… LAT_P95=…" with Options.Latency.
func RunOptions(ctx context.Context, rec asr.Recognizer, listPath string, out io.Writer, opts Options) (Summary, error) {
	if opts.SilenceEnd <= 0 {
		opts.SilenceEnd = vad.Config{}.Defaults().SilenceEnd
	}
	var vocab map[string]bool
	if v, ok := rec.(Vocabularian); ok {
		if words := v.Vocabulary(); len(words) > 0 {
			vocab = map[string]bool{}
			for _, w := range words {
				vocab[w] = true
			}
			vocab["zero"] = vocab["zero"] || vocab["oh"] // Words scores "oh" as "zero"
		}
	}
	recognize := rec.Recognize
	if or, ok := rec.(OptionsRecognizer); ok && opts.Narrowband {
		recognize = func(ctx context.Context, pcm []int16) (asr.Result, error) {
			return or.RecognizeOptions(ctx, pcm, asr.StreamOptions{Narrowband: true})
		}
	}
	var lat latency
	f, err := os.Open(listPath)
	if err != nil {
		return Summary{}, fmt.Errorf("asreval: %w", err)
	}
	defer f.Close()
	dir := filepath.Dir(listPath)
	var sum Summary
	sc := bufio.NewScanner(f)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		path, ref, ok := strings.Cut(line, "\t")
		if !ok {
			return sum, fmt.Errorf("asreval: %s:%d: want path<TAB>reference text", listPath, lineNo)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		refWords := Words(ref)
		sum.Files++
		sum.RefWords += len(refWords)
		for _, w := range refWords {
			if vocab != nil && !vocab[w] {
				sum.OOVWords++
			}
		}
		pcm, err := ReadWAVFile(path)
		if err != nil {
			sum.FailedRead++
			sum.Errors += len(refWords)
			fmt.Fprintf(out, "%s\tERROR %v\n", path, err)
			continue
		}
		if opts.Narrowband {
			pcm = Narrowband(pcm)
		}
		streamOut := ""
		if opts.Latency {
			text, e, worst, err := lat.measure(ctx, rec, pcm, refWords, opts)
			if err != nil {
				return sum, err
			}
			streamOut = fmt.Sprintf("\tstream_errors=%d\tstream_hyp=%q\tstream_lat_ms=%d", e, text, worst.Milliseconds())
		}
		start, cpu0 := time.Now(), cpuTime()
		res, err := recognize(ctx, pcm)
		sum.Decode += time.Since(start)
		sum.DecodeCPU += cpuTime() - cpu0
		sum.Audio += time.Duration(len(pcm)) * time.Second / asr.SampleRate
		if err != nil {
			if ctx.Err() != nil {
				return sum, fmt.Errorf("asreval: %w", ctx.Err())
			}
			sum.Errors += len(refWords)
			fmt.Fprintf(out, "%s\tERROR %v\n", path, err)
			continue
		}
		hyp := Words(res.Text)
		e := EditDistance(refWords, hyp)
		sum.Errors += e
		fmt.Fprintf(out, "%s\terrors=%d/%d\tref=%q\thyp=%q%s\n", filepath.Base(path), e, len(refWords), strings.Join(refWords, " "), strings.Join(hyp, " "), streamOut)
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("asreval: %s: %w", listPath, err)
	}
	if sum.Files == 0 {
		return sum, errors.New("asreval: the list has no files")
	}
	if sum.RefWords > 0 {
		sum.WER = float64(sum.Errors) / float64(sum.RefWords)
	}
	if sum.Audio > 0 {
		sum.RTF = sum.Decode.Seconds() / sum.Audio.Seconds()
		sum.CPURTF = sum.DecodeCPU.Seconds() / sum.Audio.Seconds()
	}
	sum.OOV = -1
	if vocab != nil && sum.RefWords > 0 {
		sum.OOV = float64(sum.OOVWords) / float64(sum.RefWords)
		fmt.Fprintf(out, "OOV=%.4f (%d of %d reference words not in the vocabulary)\n", sum.OOV, sum.OOVWords, sum.RefWords)
	}
	if opts.Latency {
		lat.summarise(&sum)
		fmt.Fprintf(out, "LAT_P50=%d LAT_P95=%d LAT_MAX=%d (ms, end of speech + %v to Final, %d finals) STREAM_WER=%.4f\n",
			sum.LatP50.Milliseconds(), sum.LatP95.Milliseconds(), sum.LatMax.Milliseconds(), opts.SilenceEnd, sum.Finals, sum.StreamWER)
	}
	fmt.Fprintf(out, "CPU_RTF=%.4f (process CPU while decoding / audio)\n", sum.CPURTF)
	fmt.Fprintf(out, "WER=%.4f RTF=%.4f\n", sum.WER, sum.RTF)
	return sum, nil
}

var digitWords = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Words normalises text for scoring: lower case, punctuation dropped
// (apostrophes inside words kept), digits spoken one by one, and "oh"
// counted as "zero" since callers use both for the digit.
func Words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if w := strings.Trim(string(cur), "'"); w != "" {
			if w == "oh" {
				w = "zero"
			}
			out = append(out, w)
		}
		cur = cur[:0]
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= '0' && r <= '9':
			flush()
			out = append(out, digitWords[r-'0'])
		case unicode.IsLetter(r) || r == '\'':
			cur = append(cur, r)
		case r == '’':
			cur = append(cur, '\'')
		default:
			flush()
		}
	}
	flush()
	return out
}

// EditDistance is the word-level Levenshtein distance: the fewest
// substitutions, deletions and insertions that turn ref into hyp.
func EditDistance(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}

// WER is EditDistance over the reference length of two texts (0 for an
// empty reference and hypothesis, 1 per inserted word otherwise).
func WER(ref, hyp string) float64 {
	r, h := Words(ref), Words(hyp)
	e := EditDistance(r, h)
	if len(r) == 0 {
		return float64(e)
	}
	return float64(e) / float64(len(r))
}
