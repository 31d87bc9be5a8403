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
	// DefaultGeneralLM is the general English trigram model; option
	// lm=general selects it (with the whole of DefaultDict).
	DefaultGeneralLM = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
)

// Recognizer is the PocketSphinx provider: a pool of decoders shared by
// all streams, fed by a bounded queue of whole utterances; and, for
// narrowband streams, a second pool whose decoders apply the MLLR
// transform for telephone audio.
type Recognizer struct {
	log    *slog.Logger
	domain Domain
	vad    vad.Config
	spec   time.Duration // pause that starts a speculative decode, 0: none
	piece  time.Duration // speculation kept as a piece of a longer utterance, 0: none
	lap    time.Duration // overlap decoded again in front of a later piece
	mllr   string        // the narrowband pool's transform, "" without one
	head   time.Duration // utterance audio a live decoder starts with (its cepstral mean)
	pause  time.Duration // pause at which a live decoder's words are a Tentative

	// Live decoders (see specStream): free ones wait in these pools.
	wideLive, narrowLive chan *live
	lives                []*live // all, freed by Close

	wide   chan job // queue of the wideband decoders
	narrow chan job // queue of the narrowband decoders (== wide without MLLR)
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
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
//	           then used whole; "general" is DefaultGeneralLM
//	decoders   decoders in the pool (default runtime.NumCPU())
//	queue      utterances that may wait for a decoder (default 8 per decoder)
//	silence_ms silence that ends an utterance (default 600)
//	speculate_ms  pause after which the utterance so far is decoded while
//	           a decoder is idle, so its Final is ready when silence_ms is
//	           reached (default 200; "0": off; see specStream)
//	speculate_piece_ms   a speculative decode at least this long is kept
//	           when the speaker goes on, and only the audio after it is
//	           decoded later, so a long utterance's Final needs little
//	           decoding after its end (default 2000; "0": decode each
//	           utterance whole, from its start)
//	speculate_overlap_ms audio before such a piece decoded again in
//	           front of the next one, for its context (default 1000)
//	live_decoders  decoders (per pool: wideband, and narrowband with its
//	           transform) that follow an open utterance of a stream opened
//	           with asr.StreamOptions.Turns as its audio arrives, so that
//	           its words so far are a Tentative at once when the speaker
//	           pauses (default runtime.NumCPU(); "0": none,
//	           every Tentative waits for a speculative decode). An utterance
//	           gets one once it is live_head_ms long, when one is free
//	live_head_ms   audio of the utterance whose cepstral mean a live
//	           decoder uses for all of it (default 1500; see live.go)
//	live_pause_ms  pause after which a live decoder's words so far are a
//	           Tentative (default 150, at most silence_ms)
//	narrowband_mllr      MLLR transform for narrowband streams (default:
//	           the shipped NarrowbandMLLR, written to cfg.DataDir); "none":
//	           narrowband streams use the wideband decoders
//	narrowband_decoders  decoders with that transform (default: decoders)
//	general_words  blend the generated domain LM with the general LM and
//	           add its most frequent N words to the vocabulary (default 0:
//	           the domain LM alone; 20000 is the measured choice). On the
//	           dev sets (flite voices, wideband; Asterisk prompts,
//	           narrowband) 20000 took WER from 0.31 to 0.11 and from 0.34
//	           to 0.27. It is off unless set (the demo config sets it)
//	           for its cost, which is the
//	           general LM each decoder holds, whatever N: on the wideband
//	           dev half 5000 / 10000 / 20000 words gave WER 0.16 / 0.14 /
//	           0.11 for 1.4 / 1.6 / 1.6 times the decoding CPU and about
//	           50 / 53 / 59 MB more per decoder (bench/README.md)
//	general_weight weight of the general LM in the blend (default 0.1;
//	           0.05 to 0.3 gave the same dev WER: the vocabulary matters)
//	general_lm     the general LM (default DefaultGeneralLM)
//	hot_phrases    phrases to favour, separated by "|" (product and place
//	           names, say): each joins the domain LM's text hot_boost times
//	           (default 5, at most 100), so its words are in the vocabulary
//	           and its word sequence is likely; words the pronunciation
//	           dictionary lacks are left out, with a warning
//	-name      passed to PocketSphinx as is, e.g. "-lw": "8"
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

	nnar, err := atoi("narrowband_decoders", ndec)
	if err != nil {
		return nil, err
	}
	specMS, err := strconv.Atoi(get("speculate_ms", "200"))
	if err != nil || specMS < 0 {
		return nil, fmt.Errorf("sphinx: option speculate_ms=%q: want milliseconds, 0 for off", get("speculate_ms", ""))
	}
	if specMS >= silence {
		specMS = 0 // no earlier than the end itself
	}
	pieceMS, err := strconv.Atoi(get("speculate_piece_ms", "2000"))
	if err != nil || pieceMS < 0 {
		return nil, fmt.Errorf("sphinx: option speculate_piece_ms=%q: want milliseconds, 0 for off", get("speculate_piece_ms", ""))
	}
	nlive, err := strconv.Atoi(get("live_decoders", strconv.Itoa(runtime.NumCPU())))
	if err != nil || nlive < 0 {
		return nil, fmt.Errorf("sphinx: option live_decoders=%q: want a count, 0 for none", get("live_decoders", ""))
	}
	headMS, err := atoi("live_head_ms", 1500)
	if err != nil {
		return nil, err
	}
	pauseMS, err := atoi("live_pause_ms", 150)
	if err != nil {
		return nil, err
	}
	lapMS, err := strconv.Atoi(get("speculate_overlap_ms", "1000"))
	if err != nil || lapMS < 0 {
		return nil, fmt.Errorf("sphinx: option speculate_overlap_ms=%q: want milliseconds", get("speculate_overlap_ms", ""))
	}

	r := &Recognizer{
		log:   log,
		vad:   vad.Config{SampleRate: asr.SampleRate, SilenceEnd: time.Duration(silence) * time.Millisecond},
		spec:  time.Duration(specMS) * time.Millisecond,
		piece: time.Duration(pieceMS) * time.Millisecond,
		lap:   time.Duration(lapMS) * time.Millisecond,
		head:  time.Duration(headMS) * time.Millisecond,
		pause: time.Duration(min(pauseMS, silence)) * time.Millisecond,
		wide:  make(chan job, queue),
		quit:  make(chan struct{}),
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "contactd-sphinx")
	}
	switch m := get("narrowband_mllr", ""); m {
	case "none":
	case "":
		if r.mllr, err = writeShippedMLLR(dir); err != nil {
			return nil, err
		}
	default:
		if _, err := os.Stat(m); err != nil {
			return nil, fmt.Errorf("sphinx: narrowband_mllr: %w", err)
		}
		r.mllr = m
	}
	nGeneral, err := strconv.Atoi(get("general_words", "0"))
	if err != nil || nGeneral < 0 {
		return nil, fmt.Errorf("sphinx: option general_words=%q: want a count, 0 for none", get("general_words", ""))
	}
	wGeneral, err := strconv.ParseFloat(get("general_weight", "0.1"), 64)
	if err != nil || wGeneral <= 0 || wGeneral >= 1 {
		return nil, fmt.Errorf("sphinx: option general_weight=%q: want a number between 0 and 1", get("general_weight", ""))
	}
	generalLM := get("general_lm", DefaultGeneralLM)
	blend := false
	dict := get("dict", DefaultDict)
	var lmPath string
	if lm := get("lm", ""); lm != "" {
		if lm == "general" {
			lm = DefaultGeneralLM
		}
		lmPath = lm
		r.domain = Domain{LMPath: lm, DictPath: dict}
	} else {
		var extra []string
		if nGeneral > 0 {
			if extra, err = GeneralWords(generalLM, dict, nGeneral, dir); err != nil {
				return nil, err
			}
		}
		phrases := cfg.Phrases
		if hot := get("hot_phrases", ""); hot != "" {
			boost, err := atoi("hot_boost", 5)
			if err != nil {
				return nil, err
			}
			phrases = append([]string(nil), phrases...)
			for _, p := range strings.Split(hot, "|") {
				if p = strings.TrimSpace(p); p != "" {
					for range min(boost, 100) {
						phrases = append(phrases, p)
					}
				}
			}
		}
		d, err := BuildDomainWords(phrases, extra, dict, dir, log)
		if err != nil {
			return nil, err
		}
		r.domain, lmPath, dict = d, d.LMPath, d.DictPath
		blend = nGeneral > 0
	}
	args := []string{"-hmm", hmm, "-lm", lmPath, "-dict", dict}
	// Dither: digital silence (exact zeros, as synthetic prompts and some
	// trunks send) gives log(0) energies that wreck utterance CMN; half an
	// LSB of noise fixed 16 kHz espeak WER from 0.55 to 0.21 here. A fixed
	// seed keeps results repeatable.
	// The second (flat-lexicon) search pass stays on: "-fwdflat": "no"
	// saves 30 % of the decoding time but lost digits of an order number
	// and changed dev WER only within its noise (wideband 0.61 → 0.58,
	// narrowband 0.53 → 0.56); speculative decoding hides the time.
	// Search limits: at most 3000 active HMMs and 10 word exits per
	// frame. They bind only with the blended LM's large vocabulary, where
	// they save 15-20 % of the CPU; dev WER moved 0.112 -> 0.112
	// (wideband) and 0.260 -> 0.266 (narrowband).
	defaults := map[string]string{"-dither": "yes", "-seed": "1", "-maxhmmpf": "3000", "-maxwpf": "10"}
	var extra []string
	for k := range o {
		if strings.HasPrefix(k, "-") && strings.TrimSpace(o[k]) != "" {
			extra = append(extra, k)
			delete(defaults, k)
		}
	}
	for _, k := range []string{"-dither", "-seed", "-maxhmmpf", "-maxwpf"} {
		if v, ok := defaults[k]; ok {
			args = append(args, k, v)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		args = append(args, k, o[k])
	}

	// The pools: ndec wideband decoders, and nnar more with the MLLR
	// transform (one transform per decoder: PocketSphinx applies it to
	// the model's means when the decoder is built).
	type spec struct {
		args []string
		jobs chan job
		live chan *live // a live decoder for this pool instead of a worker's
	}
	specs := make([]spec, 0, ndec+nnar+2*nlive)
	for range ndec {
		specs = append(specs, spec{args: args, jobs: r.wide})
	}
	// A live decoder's hypothesis is its first (tree) search pass's, and
	// it ends utterances only to drop them: the second pass and the
	// lattice search would be decoding for nothing when it does.
	var liveArgs []string
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] != "-fwdflat" && args[i] != "-bestpath" {
			liveArgs = append(liveArgs, args[i], args[i+1])
		}
	}
	liveArgs = append(liveArgs, "-fwdflat", "no", "-bestpath", "no")
	if r.spec > 0 && nlive > 0 {
		r.wideLive = make(chan *live, nlive)
		for range nlive {
			specs = append(specs, spec{args: liveArgs, live: r.wideLive})
		}
	}
	r.narrow, r.narrowLive = r.wide, r.wideLive
	if r.mllr != "" {
		r.narrow = make(chan job, 8*nnar)
		nargs := append(append([]string(nil), args...), "-mllr", r.mllr)
		for range nnar {
			specs = append(specs, spec{args: nargs, jobs: r.narrow})
		}
		if r.spec > 0 && nlive > 0 {
			r.narrowLive = make(chan *live, nlive)
			for range nlive {
				specs = append(specs, spec{args: append(append([]string(nil), liveArgs...), "-mllr", r.mllr), live: r.narrowLive})
			}
		}
	}
	decs := make([]*decoder, 0, len(specs))
	for _, sp := range specs {
		if err := ctx.Err(); err != nil {
			freeAll(decs)
			return nil, fmt.Errorf("sphinx: %w", err)
		}
		d, err := newDecoder(sp.args)
		if err != nil {
			freeAll(decs)
			return nil, err
		}
		decs = append(decs, d)
		if blend {
			if err := d.blend(generalLM, wGeneral); err != nil {
				freeAll(decs)
				return nil, err
			}
		}
	}
	for i, d := range decs {
		if p := specs[i].live; p != nil {
			l, err := newLive(d)
			if err != nil {
				r.Close()
				freeAll(decs[i:])
				return nil, err
			}
			r.lives = append(r.lives, l)
			p <- l
			continue
		}
		r.wg.Add(1)
		go r.work(d, specs[i].jobs)
	}
	log.Info("sphinx: ready", "decoders", ndec, "narrowband_decoders", len(decs)-ndec-len(r.lives), "live_decoders", len(r.lives),
		"narrowband_mllr", r.mllr, "words", len(r.domain.Words), "general_words", len(r.domain.Extra), "lm", lmPath)
	return r, nil
}

func freeAll(decs []*decoder) {
	for _, d := range decs {
		d.free()
	}
}

// Domain describes the language model and dictionary in use.
func (r *Recognizer) Domain() Domain { return r.domain }

// Vocabulary lists the words the language model knows; nil with a
// language model given as a file (option lm), whose words are not read.
func (r *Recognizer) Vocabulary() []string { return r.domain.Vocabulary() }

// work owns one decoder until Close, taking utterances from jobs.
func (r *Recognizer) work(d *decoder, jobs <-chan job) {
	defer r.wg.Done()
	defer d.free()
	for {
		select {
		case <-r.quit:
			return
		case j := <-jobs:
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
	return r.decodeOn(ctx, r.wide, pcm)
}

// decodeNarrow is decode on the narrowband pool.
func (r *Recognizer) decodeNarrow(ctx context.Context, pcm []int16) (asr.Result, error) {
	return r.decodeOn(ctx, r.narrow, pcm)
}

func (r *Recognizer) decodeOn(ctx context.Context, jobs chan<- job, pcm []int16) (asr.Result, error) {
	j := job{ctx: ctx, pcm: pcm, reply: make(chan jobResult, 1)}
	select {
	case jobs <- j:
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

// Recognize transcribes one whole utterance of 16 kHz wideband PCM.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	return r.RecognizeOptions(ctx, pcm, asr.StreamOptions{})
}

// RecognizeOptions transcribes one whole utterance of 16 kHz PCM from a
// stream described by opts: with opts.Narrowband the narrowband decoders
// do it.
func (r *Recognizer) RecognizeOptions(ctx context.Context, pcm []int16, opts asr.StreamOptions) (asr.Result, error) {
	dec := r.decode
	if opts.Narrowband {
		dec = r.decodeNarrow
	}
	res, err := dec(ctx, pcm)
	if err != nil {
		return asr.Result{}, err
	}
	res.Kind = asr.Final
	return res, nil
}

// NewStream opens a stream: a VAD cuts the audio into utterances and each
// is decoded whole by the pool (see asr.NewSegmentedStream); the
// narrowband pool when opts.Narrowband is set.
func (r *Recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	select {
	case <-r.quit:
		return nil, errClosed
	default:
	}
	dec, queue := r.decode, r.wide
	if opts.Narrowband {
		dec, queue = r.decodeNarrow, r.narrow
	}
	so := asr.SegmentedOptions{VAD: r.vad, Logger: r.log, Label: opts.Label}
	if r.spec > 0 {
		lc := liveConfig{pool: r.wideLive, head: r.head, pause: r.pause}
		if opts.Narrowband {
			lc.pool = r.narrowLive
		}
		if !opts.Turns {
			lc.pool = nil
		}
		return newSpecStream(ctx, dec, queue, lc, r.vad, r.spec, r.piece, r.lap, so), nil
	}
	return asr.NewSegmentedStream(ctx, dec, so), nil
}

// Close stops the decoders and frees them. Streams still open get errors
// for their remaining utterances. Safe to call twice.
func (r *Recognizer) Close() error {
	r.once.Do(func() { close(r.quit) })
	r.wg.Wait()
	for _, l := range r.lives {
		l.free()
	}
	return nil
}
