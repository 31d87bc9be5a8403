//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/fe.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>

// cd_live_fe is a front end like the decoder's, to measure cepstra with
// (the decoder's own keeps counting frames across utterances).
static fe_t *cd_live_fe(ps_decoder_t *ps) {
	return fe_init_auto_r(ps_get_config(ps));
}

// cd_live_start begins an utterance decoded block by block. Block decoding
// normalises the cepstra with a mean that is fixed for the utterance (the
// live CMN's prior: sphinxbase switches the decoder's feature module to
// it for good), so that mean is set to the mean of head, the utterance's
// first audio, measured with fe, rather than whatever an earlier
// utterance, perhaps another caller's, left. head is not decoded: feed it
// with cd_live_feed.
static int cd_live_start(ps_decoder_t *ps, fe_t *fe, const int16 *head, size_t n) {
	feat_t *feat = ps_get_feat(ps);
	if (fe == NULL || feat == NULL || feat->cmn_struct == NULL) return -1;
	if (n > 0) {
		int ncep = fe_get_output_size(fe);
		int shift, size;
		fe_get_input_size(fe, &shift, &size);
		int32 cap = (int32)(n / (size_t)shift) + 2;
		mfcc_t *buf = malloc(sizeof(mfcc_t) * (size_t)cap * (size_t)ncep);
		mfcc_t **rows = malloc(sizeof(mfcc_t *) * (size_t)cap);
		if (buf == NULL || rows == NULL) { free(buf); free(rows); return -2; }
		for (int32 i = 0; i < cap; i++) rows[i] = buf + (size_t)i * (size_t)ncep;
		const int16 *p = head;
		size_t left = n;
		int32 nfr = cap - 1, idx = 0;
		int rc = fe_start_utt(fe);
		if (rc >= 0) rc = fe_process_frames(fe, &p, &left, rows, &nfr, &idx);
		int32 last = 0;
		if (rc >= 0) rc = fe_end_utt(fe, rows[nfr], &last);
		if (rc < 0) { free(buf); free(rows); return -3; }
		nfr += last;
		if (nfr > 0) {
			mfcc_t *mean = calloc((size_t)ncep, sizeof(mfcc_t));
			if (mean == NULL) { free(buf); free(rows); return -2; }
			for (int32 i = 0; i < nfr; i++)
				for (int j = 0; j < ncep; j++) mean[j] += rows[i][j] / nfr;
			cmn_live_set(feat->cmn_struct, mean);
			free(mean);
		}
		free(buf);
		free(rows);
	}
	if (ps_start_utt(ps) < 0) return -4;
	return 0;
}

static int cd_live_feed(ps_decoder_t *ps, const int16 *pcm, size_t n) {
	return ps_process_raw(ps, pcm, n, FALSE, FALSE);
}
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/contactd/contactd/asr"
)

// live is a decoder fed one utterance block by block as its audio
// arrives, so that its hypothesis of the words so far is ready at any
// moment, not one decode of the whole utterance later. Not safe for
// concurrent use.
type live struct {
	mu   sync.Mutex // against free (Recognizer.Close) while a stream uses it
	d    *decoder
	fe   *C.fe_t // measures the head's cepstra
	open bool
	fed  int // samples fed since start
}

// free releases the decoder; the live is unusable afterwards.
func (l *live) free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open = false
	l.d.free()
	if l.fe != nil {
		C.fe_free(l.fe)
		l.fe = nil
	}
}

// newLive makes d a live decoder.
func newLive(d *decoder) (*live, error) {
	fe := C.cd_live_fe(d.ps)
	if fe == nil {
		return nil, fmt.Errorf("sphinx: no front end for a live decoder")
	}
	return &live{d: d, fe: fe}, nil
}

// start begins an utterance; head is its first audio, used only for the
// cepstral mean (see cd_live_start), and is not fed.
func (l *live) start(head []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d.ps == nil {
		return errClosed
	}
	if l.open {
		C.ps_end_utt(l.d.ps)
		l.open = false
	}
	var p *C.int16
	if len(head) > 0 {
		p = (*C.int16)(unsafe.Pointer(&head[0]))
	}
	if rc := C.cd_live_start(l.d.ps, l.fe, p, C.size_t(len(head))); rc != 0 {
		return fmt.Errorf("sphinx: starting a live utterance failed (step %d)", -rc)
	}
	l.open, l.fed = true, 0
	return nil
}

// feed decodes the utterance's next audio.
func (l *live) feed(pcm []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.open || l.d.ps == nil || len(pcm) == 0 {
		return nil
	}
	if rc := C.cd_live_feed(l.d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm))); rc < 0 {
		return fmt.Errorf("sphinx: live decoding failed (%d)", rc)
	}
	l.fed += len(pcm)
	return nil
}

// hyp is the best hypothesis of the audio fed so far (the first search
// pass's, without the second pass or a confidence), with word times
// relative to the utterance's first sample.
func (l *live) hyp() asr.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	res := asr.Result{Kind: asr.Tentative, EndMS: sampleMS(l.fed), Confidence: 0.5}
	if !l.open || l.d.ps == nil {
		return res
	}
	var score C.int32
	h := C.ps_get_hyp(l.d.ps, &score)
	if h == nil {
		return res
	}
	res.Text = strings.TrimSpace(C.GoString(h))
	for seg := C.ps_seg_iter(l.d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		w := C.GoString(C.ps_seg_word(seg))
		if isFiller(w) {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		res.Words = append(res.Words, asr.Word{Text: w, StartMS: int64(sf) * frameMS, EndMS: int64(ef+1) * frameMS, Conf: 0.5})
	}
	if len(res.Words) > 0 {
		res.StartMS = res.Words[0].StartMS
	}
	return res
}

// stop ends the utterance without using its result.
func (l *live) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open && l.d.ps != nil {
		C.ps_end_utt(l.d.ps)
		l.open = false
	}
}
