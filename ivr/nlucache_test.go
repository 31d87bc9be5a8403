package ivr

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var cacheExamples = map[string][]string{
	"order_status": {"where is my order", "my parcel has not arrived", "track my delivery", "when will my package come"},
	"billing":      {"i was charged twice", "question about my bill", "why is my bill so high", "refund the extra charge"},
	"tech_support": {"my internet is down", "the router keeps dropping", "no signal on the tv", "wifi is really slow"},
	Unknown:        {"what's the weather like", "tell me a joke", "who won the match"},
}

func cacheLog() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// TestModelCache: a restart with the same examples and program loads the
// model it trained before, the same in every part; other examples or
// another program train anew; a damaged file is trained over; a cache
// that cannot be written still gives a model.
func TestModelCache(t *testing.T) {
	dir := t.TempDir()
	log, logs := cacheLog()
	m := &ModelCache{Dir: dir, Salt: "build-1", Log: log}
	first, err := m.Train(cacheExamples)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "classifier-*.gob"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	again, err := m.Train(cacheExamples)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "loaded from the cache") {
		t.Fatalf("the second start trained again:\n%s", logs)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatal("the cached classifier differs from the one trained")
	}
	for _, text := range []string{"where's my parcel", "i've been charged twice", "tell me a joke", "zzz"} {
		if a, b := first.Classify(text), again.Classify(text); !reflect.DeepEqual(a, b) {
			t.Errorf("%q: trained %+v, cached %+v", text, a, b)
		}
	}

	// Other examples, another build: a file of their own.
	more := map[string][]string{}
	for k, v := range cacheExamples {
		more[k] = v
	}
	more["billing"] = append([]string{"my direct debit went out twice"}, cacheExamples["billing"]...)
	logs.Reset()
	if _, err := m.Train(more); err != nil {
		t.Fatal(err)
	}
	if _, err := (&ModelCache{Dir: dir, Salt: "build-2", Log: log}).Train(cacheExamples); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "loaded from the cache") {
		t.Fatalf("a model was loaded for other examples or another build:\n%s", logs)
	}
	if files, _ = filepath.Glob(filepath.Join(dir, "classifier-*.gob")); len(files) != 3 {
		t.Fatalf("cache files %v, want three", files)
	}

	// A damaged file (cut short, or rubbish) is trained over.
	path := filepath.Join(dir, "classifier-"+m.key(cacheExamples)[:32]+".gob")
	b, _ := os.ReadFile(path)
	for _, bad := range [][]byte{b[:len(b)/2], []byte("not a model")} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		logs.Reset()
		c, err := m.Train(cacheExamples)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "cached classifier not used") || !reflect.DeepEqual(c, first) {
			t.Fatalf("damaged cache file: logs\n%s", logs)
		}
		if c, err := loadClassifier(path, m.key(cacheExamples)); err != nil || !reflect.DeepEqual(c, first) {
			t.Fatalf("the damaged file was not written over: %v", err)
		}
	}

	// A cache directory that cannot be made: the model is trained all the same.
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	c, err := (&ModelCache{Dir: filepath.Join(notDir, "models"), Salt: "build-1", Log: log}).Train(cacheExamples)
	if err != nil || !reflect.DeepEqual(c, first) || !strings.Contains(logs.String(), "classifier not cached") {
		t.Fatalf("unwritable cache: %v\n%s", err, logs)
	}
	// No salt, no cache: nothing is written or read.
	bare := t.TempDir()
	if _, err := (&ModelCache{Dir: bare, Log: log}).Train(cacheExamples); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(bare); len(files) != 0 {
		t.Fatalf("a cache without a salt wrote %v", files)
	}
	// Bad examples are refused as without a cache.
	if _, err := m.Train(map[string][]string{"a": {"x"}}); err == nil {
		t.Fatal("bad examples trained")
	}
}

// TestModelCachePrune: a directory shared by instances with different
// examples keeps the newest modelFiles.
func TestModelCachePrune(t *testing.T) {
	dir := t.TempDir()
	m := &ModelCache{Dir: dir, Salt: "s", Log: slog.New(slog.DiscardHandler)}
	for i := 0; i < modelFiles+3; i++ {
		ex := map[string][]string{}
		for k, v := range cacheExamples {
			ex[k] = v
		}
		ex["billing"] = append([]string{fmt.Sprintf("bill question number %d", i)}, cacheExamples["billing"]...)
		if _, err := m.Train(ex); err != nil {
			t.Fatal(err)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "classifier-*.gob")); len(files) != modelFiles {
		t.Fatalf("%d cache files, want %d", len(files), modelFiles)
	}
}
