package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadWith(t *testing.T, yaml string, env map[string]string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	data := strings.Replace(string(Demo()), "\nqueues:\n", "\n"+yaml+"\nqueues:\n", 1)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(p, func(k string) string { return env[k] })
}

func TestPrivacySettings(t *testing.T) {
	c, err := loadWith(t, "recordings: {encrypt: true}\nretention: {recording_days: 30, transcript_days: 90}\nmetrics: {token: abc}",
		map[string]string{"CONTACTD_RECORDING_KEY": "00ff", "CONTACTD_METRICS_TOKEN": "from-env"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Recordings.Encrypt || c.Recordings.Key != "00ff" || c.Metrics.Token != "from-env" || c.Recordings.URLTTL.D().Minutes() != 5 {
		t.Errorf("recordings %+v metrics %+v", c.Recordings, c.Metrics)
	}
	r, tr := (*Retention)(nil).Days(c.Retention)
	if r != 30 || tr != 90 {
		t.Errorf("default retention %d/%d", r, tr)
	}
	seven := 7
	r, tr = (&Retention{RecordingDays: &seven}).Days(c.Retention)
	if r != 7 || tr != 90 {
		t.Errorf("queue retention over the default: %d/%d", r, tr)
	}

	for _, bad := range []struct{ yaml, field string }{
		{"recordings: {encrypt: true}", "recordings.encrypt: needs a key"},
		{"recordings: {url_ttl: 48h}", "recordings.url_ttl"},
		{"retention: {recording_days: -1}", "retention.recording_days"},
	} {
		if _, err := loadWith(t, bad.yaml, nil); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("%s: err = %v, want %q", bad.yaml, err, bad.field)
		}
	}
	// A key file instead of the environment is enough for the config.
	if _, err := loadWith(t, "recordings: {encrypt: true, key_file: /etc/contactd/recording.key}", nil); err != nil {
		t.Errorf("key file: %v", err)
	}
}
