package ivr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrBadEvalData is wrapped by every error about an evaluation file's
// content.
var ErrBadEvalData = errors.New("ivr: bad evaluation data")

// IntentMetrics are one label's figures in an evaluation.
type IntentMetrics struct {
	Support   int     `json:"support"`   // lines labelled with it
	Predicted int     `json:"predicted"` // lines classified as it
	Correct   int     `json:"correct"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Miss is one wrongly classified evaluation line.
type Miss struct {
	Line       int     `json:"line"`
	Text       string  `json:"text"`
	Want       string  `json:"want"`
	Got        string  `json:"got"`
	Confidence float64 `json:"confidence"`
}

// EvalResult is the outcome of Eval.
type EvalResult struct {
	Total    int     `json:"total"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
	// OutOfScope counts the lines labelled unknown; OutOfScopeRecall is the
	// share of them classified unknown (0 when there are none).
	OutOfScope       int     `json:"out_of_scope"`
	OutOfScopeRecall float64 `json:"out_of_scope_recall"`
	// Labels orders the rows and columns of Confusion: the classifier's
	// intents, then unknown.
	Labels    []string                 `json:"labels"`
	PerIntent map[string]IntentMetrics `json:"per_intent"`
	// Confusion[want][got] counts lines.
	Confusion map[string]map[string]int `json:"confusion"`
	Misses    []Miss                    `json:"misses"`
}

// maxReportedErrors bounds how many malformed lines one error lists.
const maxReportedErrors = 10

// Eval classifies every line of data, a TSV of "intent<TAB>text" lines
// (blank lines and lines starting with # are skipped), and writes a report
// to out: accuracy, out-of-scope recall, per-intent precision and recall, a
// confusion matrix and the misclassified lines. A malformed line or an
// intent the classifier does not know fails the whole run with the line
// numbers; nothing is classified then.
func Eval(c *Classifier, data io.Reader, out io.Writer) (EvalResult, error) {
	if c == nil {
		return EvalResult{}, errors.New("ivr: eval: nil classifier")
	}
	labels := append(c.Intents(), Unknown)
	known := map[string]bool{}
	for _, l := range labels {
		known[l] = true
	}
	type row struct {
		line       int
		want, text string
	}
	var rows []row
	var errs []error
	sc := bufio.NewScanner(data)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		want, text, ok := strings.Cut(line, "\t")
		want, text = strings.TrimSpace(want), strings.TrimSpace(text)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("line %d: want intent<TAB>text, found no tab", n))
		case want == "":
			errs = append(errs, fmt.Errorf("line %d: empty intent", n))
		case text == "":
			errs = append(errs, fmt.Errorf("line %d: empty text", n))
		case strings.Contains(text, "\t"):
			errs = append(errs, fmt.Errorf("line %d: more than two columns", n))
		case !known[want]:
			errs = append(errs, fmt.Errorf("line %d: intent %q is not one of %s", n, want, strings.Join(labels, ", ")))
		default:
			rows = append(rows, row{line: n, want: want, text: text})
		}
	}
	if err := sc.Err(); err != nil {
		return EvalResult{}, fmt.Errorf("ivr: eval: reading line %d: %w", n+1, err)
	}
	if len(errs) > 0 {
		more := len(errs) - maxReportedErrors
		if more > 0 {
			errs = append(errs[:maxReportedErrors], fmt.Errorf("and %d more", more))
		}
		return EvalResult{}, fmt.Errorf("%w: %w", ErrBadEvalData, errors.Join(errs...))
	}
	if len(rows) == 0 {
		return EvalResult{}, fmt.Errorf("%w: no data lines", ErrBadEvalData)
	}

	r := EvalResult{Labels: labels, PerIntent: map[string]IntentMetrics{}, Confusion: map[string]map[string]int{}}
	for _, l := range labels {
		r.Confusion[l] = map[string]int{}
	}
	for _, rw := range rows {
		cl := c.Classify(rw.text)
		r.Total++
		r.Confusion[rw.want][cl.Intent]++
		w := r.PerIntent[rw.want]
		w.Support++
		r.PerIntent[rw.want] = w
		g := r.PerIntent[cl.Intent]
		g.Predicted++
		r.PerIntent[cl.Intent] = g
		if cl.Intent == rw.want {
			r.Correct++
			m := r.PerIntent[rw.want]
			m.Correct++
			r.PerIntent[rw.want] = m
		} else {
			r.Misses = append(r.Misses, Miss{Line: rw.line, Text: rw.text, Want: rw.want, Got: cl.Intent, Confidence: cl.Confidence})
		}
	}
	r.Accuracy = ratio(r.Correct, r.Total)
	for l, m := range r.PerIntent {
		m.Precision = ratio(m.Correct, m.Predicted)
		m.Recall = ratio(m.Correct, m.Support)
		r.PerIntent[l] = m
	}
	r.OutOfScope = r.PerIntent[Unknown].Support
	r.OutOfScopeRecall = r.PerIntent[Unknown].Recall
	if out != nil {
		if err := r.write(out); err != nil {
			return r, fmt.Errorf("ivr: eval: writing report: %w", err)
		}
	}
	return r, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// write prints the report. Confusion columns are numbered to keep lines
// short; the legend is the row order.
func (r EvalResult) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "accuracy=%.3f (%d/%d)\n", r.Accuracy, r.Correct, r.Total)
	fmt.Fprintf(&b, "out_of_scope_recall=%.3f (%d/%d)\n\n", r.OutOfScopeRecall, r.PerIntent[Unknown].Correct, r.OutOfScope)
	width := len("intent")
	for _, l := range r.Labels {
		width = max(width, len(l))
	}
	fmt.Fprintf(&b, "%-*s  %9s  %6s  %7s\n", width, "intent", "precision", "recall", "support")
	for _, l := range r.Labels {
		m := r.PerIntent[l]
		fmt.Fprintf(&b, "%-*s  %9.3f  %6.3f  %7d\n", width, l, m.Precision, m.Recall, m.Support)
	}
	fmt.Fprintf(&b, "\nconfusion matrix (rows: labelled, columns: classified)\n")
	fmt.Fprintf(&b, "%*s", width+5, "")
	for i := range r.Labels {
		fmt.Fprintf(&b, " %3d", i+1)
	}
	b.WriteString("\n")
	for i, want := range r.Labels {
		fmt.Fprintf(&b, "%2d. %-*s ", i+1, width, want)
		for _, got := range r.Labels {
			if v := r.Confusion[want][got]; v > 0 {
				fmt.Fprintf(&b, " %3d", v)
			} else {
				fmt.Fprintf(&b, " %3s", ".")
			}
		}
		b.WriteString("\n")
	}
	if len(r.Misses) > 0 {
		misses := append([]Miss(nil), r.Misses...)
		sort.SliceStable(misses, func(i, j int) bool { return misses[i].Line < misses[j].Line })
		fmt.Fprintf(&b, "\nmisclassified:\n")
		for _, m := range misses {
			fmt.Fprintf(&b, "line %d: want %s got %s (%.2f): %s\n", m.Line, m.Want, m.Got, m.Confidence, m.Text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
