package asreval

import (
	"bufio"
	"flag"
	"fmt"
	"os"
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
type Flags struct {
	LM         string
	Phrases    string
	Narrowband bool
	Latency    bool
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.LM, "lm", "", `language model: "general" (sphinx: the stock en-us model and full dictionary) or a file; default the domain model`)
	fs.StringVar(&f.Phrases, "phrases", "", "file of extra phrases (one a line) for the domain language model")
	fs.BoolVar(&f.Narrowband, "narrowband", false, "send the audio through 8 kHz G.711 µ-law and use the recogniser's narrowband model")
	fs.BoolVar(&f.Latency, "latency", false, "also stream each file in real time and report final-result latency (LAT_P95)")
}

// Apply changes the recogniser's configuration as the flags ask.
func (f *Flags) Apply(cfg *asr.Config) error {
	if f.LM != "" {
		opts := make(map[string]string, len(cfg.Options)+1)
		for k, v := range cfg.Options {
			opts[k] = v
		}
		opts["lm"] = f.LM
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
