package main

import (
	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
)

// queuePolicies are the configured queues' waiting-caller policies.
func queuePolicies(cfg *config.Config) map[string]call.QueuePolicy {
	out := make(map[string]call.QueuePolicy, len(cfg.Queues))
	for _, q := range cfg.Queues {
		out[q.Name] = call.QueuePolicy{AnnounceEvery: q.AnnounceEvery.D(), Callback: q.Callback,
			MaxWait: q.MaxWait.D(), OnMaxWait: q.OnMaxWait}
	}
	return out
}
