//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>

// cd_init parses an argv-style configuration (argv[0] is skipped, as for a
// program) and builds a decoder; NULL on a bad option or missing file.
static ps_decoder_t *cd_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, FALSE);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// cd_decode runs one whole utterance, so cepstral mean normalisation uses
// the utterance's own mean.
static int cd_decode(ps_decoder_t *ps, const int16 *pcm, size_t n) {
	if (ps_start_utt(ps) < 0) return -1;
	if (ps_process_raw(ps, pcm, n, FALSE, TRUE) < 0) { ps_end_utt(ps); return -2; }
	if (ps_end_utt(ps) < 0) return -3;
	return 0;
}

static double cd_exp(ps_decoder_t *ps, int32 logp) {
	return logmath_exp(ps_get_logmath(ps), logp);
}

static void cd_quiet(void) { err_set_logfp(NULL); }

// cd_blend replaces the decoder's (domain) language model by its linear
// interpolation with the general model at genpath, weight w for the
// general one, and makes it the active search. The words the blend can
// recognise are those of the dictionary. Returns 0 on success.
static int cd_blend(ps_decoder_t *ps, const char *genpath, float w) {
	cmd_ln_t *cfg = ps_get_config(ps);
	logmath_t *lmath = ps_get_logmath(ps);
	const char *cur = ps_get_search(ps);
	if (cur == NULL) return -1;
	ngram_model_t *dom = ps_get_lm(ps, cur);
	if (dom == NULL) return -2;
	ngram_model_t *gen = ngram_model_read(cfg, genpath, NGRAM_AUTO, logmath_retain(lmath));
	if (gen == NULL) return -3;
	ngram_model_t *models[2] = {ngram_model_retain(dom), gen};
	char *names[2] = {"domain", "general"};
	float32 weights[2] = {1 - w, w};
	ngram_model_t *set = ngram_model_set_init(cfg, models, names, weights, 2);
	if (set == NULL) {
		ngram_model_free(models[0]);
		ngram_model_free(gen);
		return -4;
	}
	if (ps_set_lm(ps, "blend", set) < 0) { ngram_model_free(set); return -5; }
	ngram_model_free(set); // the search holds its own reference
	if (ps_set_search(ps, "blend") < 0) return -6;
	return 0;
}

// cd_lm_open reads a language model on its own, to look words up.
static ngram_model_t *cd_lm_open(const char *path) {
	logmath_t *lmath = logmath_init(1.0001, 0, 0);
	ngram_model_t *lm = ngram_model_read(NULL, path, NGRAM_AUTO, lmath);
	logmath_free(lmath);
	return lm;
}

// cd_unigram is the unigram log-probability of word, or 1 when the model
// does not know it.
static int32 cd_unigram(ngram_model_t *lm, const char *word) {
	int32 wid = ngram_wid(lm, word);
	if (wid == ngram_unknown_wid(lm) || wid < 0) return 1;
	int32 used;
	return ngram_ng_score(lm, wid, NULL, 0, &used);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/contactd/contactd/asr"
)

var quietOnce sync.Once

// decoder is one PocketSphinx decoder. It is not safe for concurrent use:
// the pool gives each to one worker goroutine.
type decoder struct {
	ps *C.ps_decoder_t
}

// newDecoder builds a decoder from "-name value" pairs.
func newDecoder(args []string) (*decoder, error) {
	quietOnce.Do(func() { C.cd_quiet() })
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("contactd"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	// The argv array itself must live in C memory: it holds C pointers
	// and cgo forbids passing Go memory that holds pointers.
	carr := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(carr))
	copy(unsafe.Slice(carr, len(argv)), argv)
	ps := C.cd_init(C.int(len(argv)), carr)
	if ps == nil {
		return nil, fmt.Errorf("sphinx: decoder did not start with %s (bad option or model file)", strings.Join(args, " "))
	}
	return &decoder{ps: ps}, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// frameMS is PocketSphinx's frame period at the model's 100 frames/s.
const frameMS = 10

// decode transcribes one whole utterance of 16 kHz PCM. Times in the
// result are relative to its first sample.
func (d *decoder) decode(pcm []int16) (asr.Result, error) {
	res := asr.Result{Kind: asr.Final, EndMS: int64(len(pcm)) * 1000 / asr.SampleRate}
	if len(pcm) == 0 {
		return res, nil
	}
	if rc := C.cd_decode(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm))); rc != 0 {
		return res, fmt.Errorf("sphinx: decoding failed (step %d)", -rc)
	}
	var score C.int32
	hyp := C.ps_get_hyp(d.ps, &score)
	if hyp == nil {
		return res, nil // nothing recognised
	}
	res.Text = strings.TrimSpace(C.GoString(hyp))
	res.Confidence = prob01(float64(C.cd_exp(d.ps, C.ps_get_prob(d.ps))))
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		w := C.GoString(C.ps_seg_word(seg))
		if isFiller(w) {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // pronunciation variant "word(2)"
		}
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		var ascr, lscr, lback C.int32
		post := C.ps_seg_prob(seg, &ascr, &lscr, &lback)
		res.Words = append(res.Words, asr.Word{
			Text:    w,
			StartMS: int64(sf) * frameMS,
			EndMS:   int64(ef+1) * frameMS,
			Conf:    prob01(float64(C.cd_exp(d.ps, post))),
		})
	}
	if len(res.Words) > 0 {
		res.StartMS = res.Words[0].StartMS
	}
	if res.Text == "" {
		res.Confidence = 0
	}
	return res, nil
}

// prob01 clamps a probability; NaN (no posterior) becomes 0.5.
func prob01(p float64) float64 {
	if math.IsNaN(p) {
		return 0.5
	}
	return max(0, min(1, p))
}

// isFiller tells silence, noise and sentence markers from words.
func isFiller(w string) bool {
	return w == "" || w[0] == '<' || w[0] == '[' || w == "(NULL)"
}

var errClosed = errors.New("sphinx: recognizer closed")

// blend makes the decoder's language model the interpolation of its
// domain model and the general model at genPath (see cd_blend).
func (d *decoder) blend(genPath string, weight float64) error {
	cp := C.CString(genPath)
	defer C.free(unsafe.Pointer(cp))
	if rc := C.cd_blend(d.ps, cp, C.float(weight)); rc != 0 {
		return fmt.Errorf("sphinx: blending with the general language model %s failed (step %d)", genPath, -rc)
	}
	return nil
}

// rankWords returns the words of candidates the language model at lmPath
// knows, most probable (by unigram) first.
func rankWords(lmPath string, candidates []string) ([]string, error) {
	quietOnce.Do(func() { C.cd_quiet() })
	cp := C.CString(lmPath)
	defer C.free(unsafe.Pointer(cp))
	lm := C.cd_lm_open(cp)
	if lm == nil {
		return nil, fmt.Errorf("sphinx: cannot read language model %s", lmPath)
	}
	defer C.ngram_model_free(lm)
	type scored struct {
		w string
		s int32
	}
	var ws []scored
	for _, w := range candidates {
		cw := C.CString(w)
		sc := int32(C.cd_unigram(lm, cw))
		C.free(unsafe.Pointer(cw))
		if sc <= 0 {
			ws = append(ws, scored{w, sc})
		}
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].s > ws[j].s })
	out := make([]string, len(ws))
	for i, x := range ws {
		out[i] = x.w
	}
	return out, nil
}
