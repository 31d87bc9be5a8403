package recordings

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyEnv is the environment variable that may hold the recording key.
const KeyEnv = "CONTACTD_RECORDING_KEY"

// ErrNoKey: encryption is on but no key was given.
var ErrNoKey = errors.New("recordings: encryption is on but there is no key: set recordings.key_file or " + KeyEnv +
	" (32 random bytes as 64 hex digits or base64, e.g. `openssl rand -hex 32`)")

// LoadKey reads the recording key from file when it is set, else from the
// environment value env. Either holds 32 bytes as 64 hex digits or
// base64; a file may also hold the 32 raw bytes. It returns nil, nil when
// both are empty. Errors never include the key.
func LoadKey(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("recordings: key file: %w", err)
		}
		if len(b) == KeySize && !isText(b) {
			return b, nil
		}
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("recordings: key file %s: %w", file, err)
		}
		return k, nil
	}
	if strings.TrimSpace(env) == "" {
		return nil, nil
	}
	k, err := ParseKey(env)
	if err != nil {
		return nil, fmt.Errorf("recordings: %s: %w", KeyEnv, err)
	}
	return k, nil
}

// ParseKey decodes a key written as 64 hex digits or as base64 (standard
// or URL alphabet, padded or not) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil {
		if len(b) != KeySize {
			return nil, fmt.Errorf("key is %d bytes (hex), want %d", len(b), KeySize)
		}
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key is %d bytes (base64), want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("key is neither hex nor base64 (%d characters); want %d bytes as 64 hex digits or base64", len(s), KeySize)
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			if c != '\n' && c != '\r' && c != '\t' {
				return false
			}
		}
	}
	return true
}
