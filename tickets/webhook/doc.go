// Package webhook tells other systems about ticket changes. A Dispatcher
// posts each event as JSON to every endpoint subscribed to its type,
// signed with HMAC-SHA256 over the body ("X-Contactd-Signature:
// sha256=<hex>", the key being the endpoint's secret), retries failures
// with exponential backoff and dead-letters a delivery after
// MaxAttempts: with Options.Store the dead letter is kept in the database,
// where the admin API lists it and Replay sends it again. Store wraps a
// store.Store so that every ticket created or updated through it, from
// calls, the agent desk or the helpdesk, fires "ticket.created" or
// "ticket.updated"; the SLA breach watcher fires "ticket.sla_breached"
// (the Dispatcher is a tickets.BreachNotifier).
//
// The Dispatcher's worker is started by its owner with Run(ctx) and
// stopped with Close, which waits for it; Publish never blocks a caller
// (a full queue drops the event with a log line).
package webhook
