package sphinx

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FilterDict copies from a CMU-format dictionary (one "word PH ON ES" a
// line, variants as "word(2) ...") the entries of the wanted words, in
// one streaming pass: the 135,000-word cmudict is never held in memory.
// It returns the entries and the wanted words that had none.
func FilterDict(r io.Reader, want map[string]bool) (entries []string, missing []string, err error) {
	found := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		sp := bytes.IndexAny(line, " \t")
		if sp <= 0 {
			continue
		}
		word := line[:sp]
		if i := bytes.IndexByte(word, '('); i > 0 {
			word = word[:i]
		}
		if !want[string(word)] {
			continue
		}
		found[string(word)] = true
		entries = append(entries, strings.TrimSpace(string(line)))
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("sphinx: reading dictionary: %w", err)
	}
	for w := range want {
		if !found[w] {
			missing = append(missing, w)
		}
	}
	sort.Strings(missing)
	return entries, missing, nil
}

// Domain is a generated language model and dictionary on disk.
type Domain struct {
	LMPath   string
	DictPath string
	Words    []string // vocabulary of the domain LM
	Extra    []string // more words in the dictionary, for a blended LM
	Missing  []string // phrase words the dictionary lacked (dropped)
}

// Vocabulary is every word the decoder can recognise: Words and Extra.
func (d Domain) Vocabulary() []string {
	if len(d.Extra) == 0 {
		return d.Words
	}
	seen := make(map[string]bool, len(d.Words)+len(d.Extra))
	var v []string
	for _, w := range append(append([]string(nil), d.Words...), d.Extra...) {
		if !seen[w] {
			seen[w] = true
			v = append(v, w)
		}
	}
	sort.Strings(v)
	return v
}

// BuildDomain writes a trigram LM of phrases (each split into Sentences;
// plus BaseSentences and DigitSentences) and the matching dictionary, taken from dictPath, into
// dir. The files are named by a hash of their inputs, so a restart with
// the same phrases reuses them.
func BuildDomain(phrases []string, dictPath, dir string, log *slog.Logger) (Domain, error) {
	return BuildDomainWords(phrases, nil, dictPath, dir, log)
}

// BuildDomainWords is BuildDomain with extra words in the dictionary that
// the domain LM does not have: the general words a blended model adds.
func BuildDomainWords(phrases, extra []string, dictPath, dir string, log *slog.Logger) (Domain, error) {
	if log == nil {
		log = slog.Default()
	}
	var sents [][]string
	want := map[string]bool{}
	all := append(append(append([]string(nil), phrases...), BaseSentences...), DigitSentences()...)
	for _, p := range all {
		for _, sent := range Sentences(p) {
			ws := Normalize(sent)
			for _, w := range ws {
				want[w] = true
			}
			sents = append(sents, ws)
		}
	}
	fi, err := os.Stat(dictPath)
	if err != nil {
		return Domain{}, fmt.Errorf("sphinx: dictionary: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "v2\x00%s\x00%d\x00%d\x00", dictPath, fi.Size(), fi.ModTime().UnixNano())
	for _, s := range sents {
		fmt.Fprintf(h, "%s\n", strings.Join(s, " "))
	}
	if len(extra) > 0 {
		fmt.Fprintf(h, "\x00extra\x00%s", strings.Join(extra, " "))
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	d := Domain{
		LMPath:   filepath.Join(dir, "domain-"+key+".lm"),
		DictPath: filepath.Join(dir, "domain-"+key+".dict"),
	}

	f, err := os.Open(dictPath)
	if err != nil {
		return Domain{}, fmt.Errorf("sphinx: dictionary: %w", err)
	}
	dictWant := want
	if len(extra) > 0 {
		dictWant = make(map[string]bool, len(want)+len(extra))
		for w := range want {
			dictWant[w] = true
		}
		for _, w := range extra {
			dictWant[w] = true
		}
	}
	entries, missing, err := FilterDict(f, dictWant)
	f.Close()
	if err != nil {
		return Domain{}, err
	}
	var extraMissing map[string]bool
	if len(extra) > 0 {
		extraMissing = map[string]bool{}
		kept := missing[:0]
		for _, w := range missing {
			if want[w] {
				kept = append(kept, w)
			} else {
				extraMissing[w] = true
			}
		}
		missing = kept
		for _, w := range extra {
			if !extraMissing[w] && !want[w] {
				d.Extra = append(d.Extra, w)
			}
		}
		sort.Strings(d.Extra)
	}
	d.Missing = missing
	if len(missing) > 0 {
		log.Warn("sphinx: words not in the pronunciation dictionary were left out of the language model",
			"count", len(missing), "words", strings.Join(missing, " "))
	}
	drop := map[string]bool{}
	for _, w := range missing {
		drop[w] = true
	}
	for i, s := range sents {
		kept := s[:0:0]
		for _, w := range s {
			if !drop[w] {
				kept = append(kept, w)
			}
		}
		sents[i] = kept
	}
	lm := BuildLM(sents, 3)
	d.Words = lm.Vocabulary()

	if _, err := os.Stat(d.LMPath); err == nil {
		if _, err := os.Stat(d.DictPath); err == nil {
			return d, nil // cached
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Domain{}, fmt.Errorf("sphinx: data dir: %w", err)
	}
	var lmBuf bytes.Buffer
	if err := lm.WriteARPA(&lmBuf); err != nil {
		return Domain{}, err
	}
	if err := writeAtomic(d.LMPath, lmBuf.Bytes()); err != nil {
		return Domain{}, err
	}
	sort.Strings(entries)
	if err := writeAtomic(d.DictPath, []byte(strings.Join(entries, "\n")+"\n")); err != nil {
		return Domain{}, err
	}
	return d, nil
}

// writeAtomic writes through a temporary file and a rename, so a reader
// never sees half a model.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sphinx: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("sphinx: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("sphinx: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sphinx: %w", err)
	}
	return nil
}
