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
)

// Summary is the outcome of a Run.
type Summary struct {
	Files      int
	RefWords   int
	Errors     int           // substitutions + deletions + insertions
	Audio      time.Duration // total audio
	Decode     time.Duration // total time in Recognize
	WER        float64       // Errors / RefWords
	RTF        float64       // Decode / Audio
	FailedRead int           // files that could not be read (counted as all deleted)
}

// Run transcribes every file of the list at listPath with rec and writes
// one line per file and the closing WER/RTF line to out.
func Run(ctx context.Context, rec asr.Recognizer, listPath string, out io.Writer) (Summary, error) {
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
		pcm, err := ReadWAVFile(path)
		if err != nil {
			sum.FailedRead++
			sum.Errors += len(refWords)
			fmt.Fprintf(out, "%s\tERROR %v\n", path, err)
			continue
		}
		start := time.Now()
		res, err := rec.Recognize(ctx, pcm)
		sum.Decode += time.Since(start)
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
		fmt.Fprintf(out, "%s\terrors=%d/%d\tref=%q\thyp=%q\n", filepath.Base(path), e, len(refWords), strings.Join(refWords, " "), strings.Join(hyp, " "))
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
	}
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
