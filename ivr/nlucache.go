package ivr

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// ModelCache keeps trained classifiers in a directory, so that a restart
// with the same examples and the same program loads the model instead of
// training it again (about 2 s of CPU for the demo's 3,000 examples, 6 s
// under the race detector). A file is keyed by a hash of Salt and the
// examples; Salt names the program that trained it (contactd uses a hash
// of its executable), so a model is never read by code that would train
// another. A file that is missing, unreadable or for another key is
// trained anew and written over; writing is best effort. Without a Dir or
// a Salt nothing is cached: a model keyed by its examples alone could be
// read by a build that trains differently.
type ModelCache struct {
	Dir  string
	Salt string
	Log  *slog.Logger
}

// modelFiles is how many classifier files a cache directory keeps (the
// newest): a directory shared by instances with different examples does
// not grow without bound.
const modelFiles = 8

// classifierFile is a Classifier as the cache stores it.
type classifierFile struct {
	Key       string
	Intents   []string
	OOS       int
	Vocab     map[string]int
	Known     map[string]bool
	Weights   [][]float64
	Bias      []float64
	Threshold float64
	Stats     TrainStats
}

// Train is TrainClassifier through the cache.
func (m *ModelCache) Train(examples map[string][]string) (*Classifier, error) {
	if m == nil || m.Dir == "" || m.Salt == "" {
		return TrainClassifier(examples)
	}
	key := m.key(examples)
	path := filepath.Join(m.Dir, "classifier-"+key[:32]+".gob")
	c, err := loadClassifier(path, key)
	if err == nil {
		m.log().Debug("nlu: classifier loaded from the cache", "file", path)
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		m.log().Warn("nlu: cached classifier not used; training", "file", path, "err", err)
	}
	c, err = TrainClassifier(examples)
	if err != nil {
		return nil, err
	}
	if err := m.save(path, key, c); err != nil {
		m.log().Warn("nlu: classifier not cached", "dir", m.Dir, "err", err)
	}
	return c, nil
}

// TrainLanguages is the package's TrainLanguages through the cache.
func (m *ModelCache) TrainLanguages(def string, examples map[string]map[string][]string) (Languages, error) {
	return trainLanguages(def, examples, m.Train)
}

func (m *ModelCache) log() *slog.Logger {
	if m.Log == nil {
		return slog.Default()
	}
	return m.Log
}

// key hashes the salt and the examples: intents in order, each example in
// its order, every string length-prefixed so that no two sets share one.
func (m *ModelCache) key(examples map[string][]string) string {
	h := sha256.New()
	put := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	put(m.Salt)
	names := make([]string, 0, len(examples))
	for n := range examples {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		put(n)
		fmt.Fprintf(h, "#%d", len(examples[n]))
		for _, e := range examples[n] {
			put(e)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loadClassifier reads the classifier at path, which must be for key and
// whole.
func loadClassifier(path, key string) (*Classifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f classifierFile
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&f); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if f.Key != key {
		return nil, errors.New("written for other examples")
	}
	n := len(f.Intents)
	if n < 2 || len(f.Weights) != n || len(f.Bias) != n || f.OOS < -1 || f.OOS >= n {
		return nil, errors.New("malformed")
	}
	for _, w := range f.Weights {
		if len(w) != len(f.Vocab) {
			return nil, errors.New("malformed")
		}
	}
	for _, i := range f.Vocab {
		if i < 0 || i >= len(f.Vocab) {
			return nil, errors.New("malformed")
		}
	}
	return &Classifier{intents: f.Intents, oos: f.OOS, vocab: f.Vocab, known: f.Known, weights: f.Weights,
		bias: f.Bias, threshold: f.Threshold, stats: f.Stats}, nil
}

// save writes c to path (through a temporary file, so that a reader never
// sees half of it) and removes all but the newest modelFiles.
func (m *ModelCache) save(path, key string, c *Classifier) error {
	if err := os.MkdirAll(m.Dir, 0o750); err != nil {
		return err
	}
	var buf bytes.Buffer
	f := classifierFile{Key: key, Intents: c.intents, OOS: c.oos, Vocab: c.vocab, Known: c.known, Weights: c.weights,
		Bias: c.bias, Threshold: c.threshold, Stats: c.stats}
	if err := gob.NewEncoder(&buf).Encode(&f); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(m.Dir, ".classifier-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	m.prune()
	return nil
}

// prune removes the cache's classifier files beyond the newest modelFiles.
func (m *ModelCache) prune() {
	paths, _ := filepath.Glob(filepath.Join(m.Dir, "classifier-*.gob"))
	if len(paths) <= modelFiles {
		return
	}
	mod := map[string]time.Time{}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			mod[p] = st.ModTime()
		}
	}
	slices.SortFunc(paths, func(a, b string) int { return mod[b].Compare(mod[a]) })
	for _, p := range paths[modelFiles:] {
		if strings.HasPrefix(filepath.Base(p), "classifier-") {
			_ = os.Remove(p)
		}
	}
}
