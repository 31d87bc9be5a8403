package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/tickets/webhook"
	"github.com/contactd/contactd/web"
)

// startWebhooks starts the webhook dispatcher when the config names
// endpoints (nil without): ticket changes are posted, signed, retried, and
// given up on into the store's dead letters, which admins replay. The
// returned function stops it.
func startWebhooks(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) (*webhook.Dispatcher, func(), error) {
	if len(cfg.Webhooks) == 0 {
		return nil, func() {}, nil
	}
	eps := make([]webhook.Endpoint, 0, len(cfg.Webhooks))
	for _, w := range cfg.Webhooks {
		eps = append(eps, webhook.Endpoint{URL: w.URL, Secret: w.Secret, Events: w.Events})
	}
	d, err := webhook.New(eps, webhook.Options{Log: log, Store: st})
	if err != nil {
		return nil, nil, err
	}
	hookCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); d.Run(hookCtx) }()
	return d, func() { stop(); <-done; d.Close() }, nil
}

// replayer keeps a nil dispatcher a nil web.Replayer.
func replayer(d *webhook.Dispatcher) web.Replayer {
	if d == nil {
		return nil
	}
	return d
}

// startSLAWatch runs the SLA breach watcher: breaches are flagged and
// escalated in st and announced on the hub, to the webhooks (when any)
// and in the audit log. The returned function stops it.
func startSLAWatch(ctx context.Context, st store.Store, hub *web.Hub, hooks *webhook.Dispatcher, log *slog.Logger) func() {
	notify := []tickets.BreachNotifier{hub, web.BreachAudit(st, log)}
	if hooks != nil {
		notify = append(notify, hooks)
	}
	w := &tickets.Watcher{Store: st, Notify: notify, Log: log}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(bg) }()
	return func() { stop(); wg.Wait() }
}
