package asreval

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/asr"
)

// Flags are asr-eval's measuring options, for the command to register
// next to --list:
//
//	--lm general|PATH  the recogniser's language model instead of the
//	                   domain model (sphinx option lm)
//	--phrases FILE     more phrases (one a line, # comments) for the
//	                   domain model, e.g. an adaptation split's texts;
//	                   never the evaluated list's own
//	--narrowband       audio through 8 kHz G.711 and the narrowband model
//	--latency          add the real-time streaming pass (LAT_P50/LAT_P95)
//	--set KEY=VALUE    a recogniser option over the config's (repeatable),
//	                   e.g. --set general_words=0 --set -fwdflat=no
//	--streams 1,2,4    instead of transcribing the list, play it on that
//	                   many concurrent real-time streams per step (RunStreams)
//	--stream-seconds S audio per stream per step (default 20)
type Flags struct {
	LM            string
	Phrases       string
	Narrowband    bool
	Latency       bool
	Set           map[string]string
	Streams       []int
	StreamSeconds float64
}

type setFlag struct{ m *map[string]string }

func (s setFlag) String() string {
	if s.m == nil {
		return ""
	}
	var kv []string
	for k, v := range *s.m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (s setFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	if *s.m == nil {
		*s.m = map[string]string{}
	}
	(*s.m)[strings.TrimSpace(k)] = strings.TrimSpace(val)
	return nil
}

type intsFlag struct{ p *[]int }

func (f intsFlag) String() string {
	if f.p == nil {
		return ""
	}
	var s []string
	for _, n := range *f.p {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (f intsFlag) Set(v string) error {
	var out []int
	for _, part := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 || n > 10000 {
			return fmt.Errorf("want a list of stream counts (1..10000), got %q", v)
		}
		out = append(out, n)
	}
	*f.p = out
	return nil
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.LM, "lm", "", `language model: "general" (sphinx: the stock en-us model and full dictionary) or a file; default the domain model`)
	fs.StringVar(&f.Phrases, "phrases", "", "file of extra phrases (one a line) for the domain language model")
	fs.BoolVar(&f.Narrowband, "narrowband", false, "send the audio through 8 kHz G.711 µ-law and use the recogniser's narrowband model")
	fs.BoolVar(&f.Latency, "latency", false, "also stream each file in real time and report final-result latency (LAT_P95)")
	fs.Var(setFlag{&f.Set}, "set", "recogniser option KEY=VALUE over the config's (repeatable)")
	fs.Var(intsFlag{&f.Streams}, "streams", "comma-separated stream counts: play the list on that many concurrent real-time streams per step and report whether finals stay timely")
	fs.Float64Var(&f.StreamSeconds, "stream-seconds", 20, "with --streams: seconds of audio per stream per step")
}

// Apply changes the recogniser's configuration as the flags ask.
func (f *Flags) Apply(cfg *asr.Config) error {
	if f.LM != "" || len(f.Set) > 0 {
		opts := make(map[string]string, len(cfg.Options)+len(f.Set)+1)
		for k, v := range cfg.Options {
			opts[k] = v
		}
		for k, v := range f.Set {
			opts[k] = v
		}
		if f.LM != "" {
			opts["lm"] = f.LM
		}
		cfg.Options = opts
	}
	if f.Phrases != "" {
		file, err := os.Open(f.Phrases)
		if err != nil {
			return fmt.Errorf("asreval: --phrases: %w", err)
		}
		defer file.Close()
		phrases := append([]string(nil), cfg.Phrases...)
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				phrases = append(phrases, l)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("asreval: --phrases: %w", err)
		}
		cfg.Phrases = phrases
	}
	return nil
}

// Options returns the Run options the flags ask for; silence is the
// recogniser's end-of-speech silence (0: the default).
func (f *Flags) Options(silence time.Duration) Options {
	return Options{Narrowband: f.Narrowband, Latency: f.Latency, SilenceEnd: silence}
}

// StreamsOptions returns the RunStreams options the flags ask for (zero
// Steps without --streams).
func (f *Flags) StreamsOptions(silence time.Duration) StreamsOptions {
	return StreamsOptions{Steps: f.Streams, Duration: time.Duration(f.StreamSeconds * float64(time.Second)),
		SilenceEnd: silence, Narrowband: f.Narrowband}
}
