//go:build cgo

package sphinx

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
)

func init() {
	asr.Register("sphinx", func(ctx context.Context, cfg asr.Config) (asr.Recognizer, error) {
		return New(ctx, cfg, nil)
	})
}

// Default model locations of Debian's pocketsphinx-en-us package.
const (
	DefaultHMM  = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
)

// Recognizer is the PocketSphinx provider: a pool of decoders shared by
// all streams, fed by a bounded queue of whole utterances.
type Recognizer struct {
	log    *slog.Logger
	domain Domain
	vad    vad.Config

	jobs chan job
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

var _ asr.Recognizer = (*Recognizer)(nil)

type job struct {
	ctx   context.Context
	pcm   []int16
	reply chan jobResult
}

type jobResult struct {
	res asr.Result
	err error
}

// New builds the domain language model from cfg.Phrases (cached in
// cfg.DataDir), starts the decoders and one worker goroutine for each;
// Close stops them. Options (all optional):
//
//	hmm        acoustic model directory (default DefaultHMM)
//	dict       pronunciation dictionary to take words from (DefaultDict)
//	lm         use this language model instead of generating one; dict is
//	           then used whole
//	decoders   decoders in the pool (default runtime.NumCPU())
//	queue      utterances that may wait for a decoder (default 8 per decoder)
//	silence_ms silence that ends an utterance (default 600)
//	-name      passed to PocketSphinx as is, e.g. "-mllr": "/path/mllr_matrix"
func New(ctx context.Context, cfg asr.Config, log *slog.Logger) (*Recognizer, error) {
	if log == nil {
		log = slog.Default()
	}
	o := cfg.Options
	get := func(k, def string) string {
		if v := strings.TrimSpace(o[k]); v != "" {
			return v
		}
		return def
	}
	hmm := get("hmm", DefaultHMM)
	if fi, err := os.Stat(filepath.Join(hmm, "mdef")); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("sphinx: hmm %q is not an acoustic model directory (Debian: apt-get install pocketsphinx-en-us)", hmm)
	}
	atoi := func(k string, def int) (int, error) {
		v := get(k, "")
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("sphinx: option %s=%q: want a positive integer", k, v)
		}
		return n, nil
	}
	ndec, err := atoi("decoders", runtime.NumCPU())
	if err != nil {
		return nil, err
	}
	queue, err := atoi("queue", 8*ndec)
	if err != nil {
		return nil, err
	}
	silence, err := atoi("silence_ms", 600)
	if err != nil {
		return nil, err
	}

	r := &Recognizer{
		log:  log,
		vad:  vad.Config{SampleRate: asr.SampleRate, SilenceEnd: time.Duration(silence) * time.Millisecond},
		jobs: make(chan job, queue),
		quit: make(chan struct{}),
	}
	dict := get("dict", DefaultDict)
	var lmPath string
	if lm := get("lm", ""); lm != "" {
		lmPath = lm
		r.domain = Domain{LMPath: lm, DictPath: dict}
	} else {
		dir := cfg.DataDir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "contactd-sphinx")
		}
		d, err := BuildDomain(cfg.Phrases, dict, dir, log)
		if err != nil {
			return nil, err
		}
		r.domain, lmPath, dict = d, d.LMPath, d.DictPath
	}
	args := []string{"-hmm", hmm, "-lm", lmPath, "-dict", dict}
	// Dither: digital silence (exact zeros, as synthetic prompts and some
	// trunks send) gives log(0) energies that wreck utterance CMN; half an
	// LSB of noise fixed 16 kHz espeak WER from 0.55 to 0.21 here. A fixed
	// seed keeps results repeatable.
	defaults := map[string]string{"-dither": "yes", "-seed": "1"}
	var extra []string
	for k := range o {
		if strings.HasPrefix(k, "-") && strings.TrimSpace(o[k]) != "" {
			extra = append(extra, k)
			delete(defaults, k)
		}
	}
	for _, k := range []string{"-dither", "-seed"} {
		if v, ok := defaults[k]; ok {
			args = append(args, k, v)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		args = append(args, k, o[k])
	}

	decs := make([]*decoder, 0, ndec)
	for range ndec {
		if err := ctx.Err(); err != nil {
			freeAll(decs)
			return nil, fmt.Errorf("sphinx: %w", err)
		}
		d, err := newDecoder(args)
		if err != nil {
			freeAll(decs)
			return nil, err
		}
		decs = append(decs, d)
	}
	for _, d := range decs {
		r.wg.Add(1)
		go r.work(d)
	}
	log.Info("sphinx: ready", "decoders", ndec, "words", len(r.domain.Words), "lm", lmPath)
	return r, nil
}

func freeAll(decs []*decoder) {
	for _, d := range decs {
		d.free()
	}
}

// Domain describes the language model and dictionary in use.
func (r *Recognizer) Domain() Domain { return r.domain }

// work owns one decoder until Close.
func (r *Recognizer) work(d *decoder) {
	defer r.wg.Done()
	defer d.free()
	for {
		select {
		case <-r.quit:
			return
		case j := <-r.jobs:
			if j.ctx.Err() != nil {
				j.reply <- jobResult{err: j.ctx.Err()}
				continue
			}
			res, err := d.decode(j.pcm)
			j.reply <- jobResult{res: res, err: err}
		}
	}
}

// decode runs one utterance on the next free decoder. It waits while the
// queue is full, so a stream's decoding goroutine is held back rather than
// the decoders being overrun.
func (r *Recognizer) decode(ctx context.Context, pcm []int16) (asr.Result, error) {
	j := job{ctx: ctx, pcm: pcm, reply: make(chan jobResult, 1)}
	select {
	case r.jobs <- j:
	case <-r.quit:
		return asr.Result{}, errClosed
	case <-ctx.Done():
		return asr.Result{}, ctx.Err()
	}
	select {
	case jr := <-j.reply:
		return jr.res, jr.err
	case <-r.quit:
		return asr.Result{}, errClosed
	case <-ctx.Done():
		return asr.Result{}, ctx.Err()
	}
}

// Recognize transcribes one whole utterance of 16 kHz PCM.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	res, err := r.decode(ctx, pcm)
	if err != nil {
		return asr.Result{}, err
	}
	res.Kind = asr.Final
	return res, nil
}

// NewStream opens a stream: a VAD cuts the audio into utterances and each
// is decoded whole by the pool (see asr.NewSegmentedStream).
func (r *Recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	select {
	case <-r.quit:
		return nil, errClosed
	default:
	}
	return asr.NewSegmentedStream(ctx, r.decode, asr.SegmentedOptions{
		VAD:    r.vad,
		Logger: r.log,
		Label:  opts.Label,
	}), nil
}

// Close stops the decoders and frees them. Streams still open get errors
// for their remaining utterances. Safe to call twice.
func (r *Recognizer) Close() error {
	r.once.Do(func() { close(r.quit) })
	r.wg.Wait()
	return nil
}
