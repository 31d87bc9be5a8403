package main

import (
	"strings"
	"testing"

	"github.com/contactd/contactd/config"
)

func TestClusterSettings(t *testing.T) {
	base := func() *config.Config {
		c := &config.Config{Database: "postgres://u:p@127.0.0.1/db"}
		c.HTTP.Addr = "127.0.0.1:8080"
		return c
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	s, err := readClusterSettings(base(), env())
	if err != nil || s.on {
		t.Fatalf("unset: %+v %v; want off", s, err)
	}
	s, err = readClusterSettings(base(), env("CONTACTD_CLUSTER", "1", "CONTACTD_NODE_ID", "n1"))
	if err != nil || !s.on || s.id != "n1" || s.url != "http://127.0.0.1:8080" {
		t.Fatalf("on: %+v %v", s, err)
	}
	for name, tc := range map[string]struct {
		cfg  func() *config.Config
		env  func(string) string
		want string
	}{
		"bad switch":      {base, env("CONTACTD_CLUSTER", "maybe"), "want 1 or 0"},
		"sqlite":          {func() *config.Config { c := base(); c.Database = ""; return c }, env("CONTACTD_CLUSTER", "1"), "Postgres"},
		"no url":          {func() *config.Config { c := base(); c.HTTP.Addr = "0.0.0.0:8080"; return c }, env("CONTACTD_CLUSTER", "1"), "CONTACTD_NODE_URL"},
		"bad heartbeat":   {base, env("CONTACTD_CLUSTER", "1", "CONTACTD_CLUSTER_HEARTBEAT", "soon"), "duration"},
		"negative period": {base, env("CONTACTD_CLUSTER", "1", "CONTACTD_CLUSTER_DEAD_AFTER", "-1s"), "duration"},
		"bad lease":       {base, env("CONTACTD_CLUSTER", "1", "CONTACTD_CLUSTER_LEASE", "0"), "duration"},
	} {
		if _, err := readClusterSettings(tc.cfg(), tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, tc.want)
		}
	}
}
