package main

import (
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// writeBenchConfig writes contactd's config for the relay bench: the demo
// config at in with speech recognition off (asr none), an IVR that queues
// at once without a prompt (flow, confirm and hold message), no wrap-up on
// the general queue, a call cap above maxCalls and recording on. The
// trunks go (their DIDs name entries of the demo flow; inbound is open on
// loopback anyway).
func writeBenchConfig(w io.Writer, in, flow string, maxCalls int) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	section := func(k string) map[string]any {
		m, ok := cfg[k].(map[string]any)
		if !ok {
			m = map[string]any{}
			cfg[k] = m
		}
		return m
	}
	sip := section("sip")
	sip["max_calls"] = 2*maxCalls + 100
	delete(sip, "trunks")
	cfg["asr"] = map[string]any{"provider": "none"}
	cfg["record"] = true
	ivr := section("ivr")
	ivr["flow"] = flow
	ivr["confirm"] = " " // nothing to synthesise per call
	ivr["queue_message"] = " "
	queues, _ := cfg["queues"].([]any)
	found := false
	for _, q := range queues {
		if m, ok := q.(map[string]any); ok && m["name"] == "general" {
			m["wrap_up"] = "0s"
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%s: no queue named general", in)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// benchFlow is the IVR flow of the bench: straight to the general queue.
const benchFlow = `# Straight to the general queue: no prompt, no question.
start: queue
nodes:
  queue:
    kind: transfer
    queue: general
`
