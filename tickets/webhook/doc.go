// Package webhook tells other systems about ticket changes. A Dispatcher
// posts each event as JSON to every endpoint subscribed to its type,
// signed with HMAC-SHA256 over the body ("X-Contactd-Signature:
// sha256=<hex>", the key being the endpoint's secret), retries failures
// with exponential backoff and dead-letters a delivery after
// MaxAttempts. Store wraps a store.Store so that every ticket created or
// updated through it, from calls, the agent desk or the helpdesk, fires
// "ticket.created" or "ticket.updated".
//
// The Dispatcher's worker is started by its owner with Run(ctx) and
// stopped with Close, which waits for it; Publish never blocks a caller
// (a full queue drops the event with a log line).
package webhook
