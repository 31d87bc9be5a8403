package config

import (
	"fmt"
	"time"
)

// Recordings: encryption at rest and signed playback URLs.
type Recordings struct {
	// Encrypt encrypts every finished recording (AES-256-GCM, chunked)
	// and removes the plaintext. The key comes from KeyFile, else from
	// CONTACTD_RECORDING_KEY: 32 bytes as 64 hex digits or base64 (a file
	// may hold the raw bytes). Keep it safe and backed up apart from the
	// data: without it the recordings are lost.
	Encrypt bool   `yaml:"encrypt"`
	KeyFile string `yaml:"key_file"`
	// URLTTL is how long a signed recording URL works (default 5m).
	URLTTL Duration `yaml:"url_ttl"`
	// Key is CONTACTD_RECORDING_KEY (never read from the file).
	Key string `yaml:"-"`
	// fromEnv: the environment has been read, so a missing key is final.
	fromEnv bool
}

// Retention is how many days after a call its recording and transcript
// are kept; 0 (or unset at the top level) keeps them. A queue's own
// retention overrides the top-level default field by field.
type Retention struct {
	RecordingDays  *int `yaml:"recording_days"`
	TranscriptDays *int `yaml:"transcript_days"`
}

// Days returns the recording and transcript days of r over def.
func (r *Retention) Days(def Retention) (recording, transcript int) {
	pick := func(own, d *int) int {
		switch {
		case own != nil:
			return *own
		case d != nil:
			return *d
		}
		return 0
	}
	if r == nil {
		r = &Retention{}
	}
	return pick(r.RecordingDays, def.RecordingDays), pick(r.TranscriptDays, def.TranscriptDays)
}

// Metrics is the Prometheus endpoint GET /metrics. Admins may always read
// it; a scraper sends Token (or CONTACTD_METRICS_TOKEN) as its bearer
// token.
type Metrics struct {
	Token string `yaml:"token"`
}

func (c *Config) applyPrivacyEnv(getenv func(string) string) {
	if v := getenv("CONTACTD_RECORDING_KEY"); v != "" {
		c.Recordings.Key = v
	}
	c.Recordings.fromEnv = true
	if v := getenv("CONTACTD_METRICS_TOKEN"); v != "" {
		c.Metrics.Token = v
	}
	if c.Recordings.URLTTL == 0 {
		c.Recordings.URLTTL = Duration(5 * time.Minute)
	}
}

func (c *Config) validatePrivacy(bad func(field, why string, args ...any)) {
	if c.Recordings.Encrypt && c.Recordings.KeyFile == "" && c.Recordings.Key == "" && c.Recordings.fromEnv {
		bad("recordings.encrypt", "needs a key: set recordings.key_file or CONTACTD_RECORDING_KEY "+
			"(32 random bytes as 64 hex digits, e.g. `openssl rand -hex 32`)")
	}
	if t := c.Recordings.URLTTL.D(); t < 0 || t > 24*time.Hour {
		bad("recordings.url_ttl", "want 0 (5m) up to 24h, got %s", t)
	}
	days := func(field string, r Retention) {
		for name, d := range map[string]*int{"recording_days": r.RecordingDays, "transcript_days": r.TranscriptDays} {
			if d != nil && (*d < 0 || *d > 36500) {
				bad(field+"."+name, "want 0 (keep) to 36500 days, got %d", *d)
			}
		}
	}
	days("retention", c.Retention)
	for i, q := range c.Queues {
		if q.Retention != nil {
			days(fmt.Sprintf("queues[%d].retention", i), *q.Retention)
		}
	}
}
