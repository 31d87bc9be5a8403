package sphinx

import (
	"crypto/sha256"
	_ "embed" // the shipped MLLR transform
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// NarrowbandMLLR is the shipped MLLR transform (PocketSphinx's -mllr
// format) that adapts the wideband en-us model to telephone audio: 8 kHz
// G.711 upsampled to 16 kHz. It was trained by deploy/asr/adapt-mllr.sh on
// the adaptation split of Debian's asterisk-core-sounds-en-wav prompts
// (deploy/asr/make-lists.sh); the held-out split was never used.
//
//go:embed model/mllr_matrix_8k
var NarrowbandMLLR []byte

// writeShippedMLLR puts NarrowbandMLLR in dir (named by its hash, so a
// new build's transform never mixes with an old one) and returns the path.
func writeShippedMLLR(dir string) (string, error) {
	sum := sha256.Sum256(NarrowbandMLLR)
	path := filepath.Join(dir, "mllr-8k-"+hex.EncodeToString(sum[:])[:16])
	if b, err := os.ReadFile(path); err == nil && string(b) == string(NarrowbandMLLR) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("sphinx: data dir: %w", err)
	}
	if err := writeAtomic(path, NarrowbandMLLR); err != nil {
		return "", err
	}
	return path, nil
}
