//go:build cgo

package sphinx

import (
	"testing"

	"github.com/contactd/contactd/asr"
)

// TestJoinPieces checks how the pieces of an utterance become its Final:
// the overlap's words are dropped, times move to the utterance's, the
// confidence is the product.
func TestJoinPieces(t *testing.T) {
	const ms = asr.SampleRate / 1000
	pcm := make([]int16, 5000*ms)
	for i := range pcm {
		pcm[i] = int16(i % 251)
	}
	// Piece 1: [0, 2500 ms). Piece 2 decodes [1500, 5000) ms, its own
	// words from 2500 ms (1000 ms into its audio).
	p1 := &speculation{off: 0, pcm: pcm[:2500*ms], res: asr.Result{Text: "where is my order", Confidence: 0.5,
		Words: []asr.Word{{Text: "where", StartMS: 300, EndMS: 600}, {Text: "is", StartMS: 600, EndMS: 800},
			{Text: "my", StartMS: 800, EndMS: 1000}, {Text: "order", StartMS: 1000, EndMS: 2200}}}}
	p2 := &speculation{off: 1500 * ms, from: 1000 * ms, pcm: pcm[1500*ms:], res: asr.Result{Text: "order number two", Confidence: 0.8,
		Words: []asr.Word{{Text: "order", StartMS: 0, EndMS: 700}, {Text: "number", StartMS: 1100, EndMS: 1600},
			{Text: "two", StartMS: 1700, EndMS: 2000}}}}
	if got := matching([]*speculation{p1, p2}, pcm); len(got) != 2 {
		t.Fatalf("matching: %d pieces, want 2", len(got))
	}
	other := append([]int16(nil), pcm...)
	other[3000*ms]++
	if got := matching([]*speculation{p1, p2}, other); len(got) != 1 {
		t.Errorf("matching other audio: %d pieces, want 1", len(got))
	}
	if got := matching([]*speculation{p1, p2}, pcm[:4000*ms]); len(got) != 1 {
		t.Errorf("matching shorter audio: %d pieces, want 1", len(got))
	}
	res := join([]*speculation{p1, p2}, len(pcm))
	if res.Text != "where is my order number two" {
		t.Errorf("text %q", res.Text)
	}
	if len(res.Words) != 6 || res.Words[4].StartMS != 2600 || res.Words[5].EndMS != 3500 || res.StartMS != 300 || res.EndMS != 5000 {
		t.Errorf("words %+v start %d end %d", res.Words, res.StartMS, res.EndMS)
	}
	if res.Confidence != 0.4 {
		t.Errorf("confidence %v, want 0.4", res.Confidence)
	}
	// The last word of a piece is the next one's when the next one's
	// audio starts well before it: piece 1 heard "lumber" at its very end,
	// piece 2 heard "number" with what followed.
	p1.res.Words = append(p1.res.Words, asr.Word{Text: "lumber", StartMS: 2000, EndMS: 2300})
	p2.res.Words = []asr.Word{{Text: "order", StartMS: 0, EndMS: 400}, {Text: "number", StartMS: 500, EndMS: 800},
		{Text: "two", StartMS: 1100, EndMS: 1400}}
	if res := join([]*speculation{p1, p2}, len(pcm)); res.Text != "where is my order number two" || res.Words[4].StartMS != 2000 {
		t.Errorf("last word from the next piece: %q %+v", res.Text, res.Words)
	}
	if res := join([]*speculation{{pcm: pcm[:100]}}, 100); res.Text != "" || res.Confidence != 0 {
		t.Errorf("no words: %+v", res)
	}
}
