//go:build cgo

package sphinx

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GeneralWords returns the n most probable words (by the unigram of the
// general language model at lmPath) that the dictionary at dictPath has:
// the vocabulary a blended model adds to the domain's, so a caller's word
// the IVR's phrases never used can still be recognised. The list is
// cached in dir, named by a hash of its inputs.
func GeneralWords(lmPath, dictPath string, n int, dir string) ([]string, error) {
	h := sha256.New()
	for _, p := range []string{lmPath, dictPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("sphinx: general words: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, fi.Size(), fi.ModTime().UnixNano())
	}
	fmt.Fprintf(h, "%d", n)
	cache := filepath.Join(dir, "general-words-"+hex.EncodeToString(h.Sum(nil))[:16]+".txt")
	if b, err := os.ReadFile(cache); err == nil {
		return strings.Fields(string(b)), nil
	}
	f, err := os.Open(dictPath)
	if err != nil {
		return nil, fmt.Errorf("sphinx: general words: %w", err)
	}
	var heads []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		sp := bytes.IndexAny(line, " \t")
		if sp <= 0 {
			continue
		}
		w := line[:sp]
		if i := bytes.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		if !seen[string(w)] {
			seen[string(w)] = true
			heads = append(heads, string(w))
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sphinx: general words: reading %s: %w", dictPath, err)
	}
	ranked, err := rankWords(lmPath, heads)
	if err != nil {
		return nil, err
	}
	ranked = ranked[:min(n, len(ranked))]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sphinx: data dir: %w", err)
	}
	if err := writeAtomic(cache, []byte(strings.Join(ranked, "\n")+"\n")); err != nil {
		return nil, err
	}
	return ranked, nil
}
