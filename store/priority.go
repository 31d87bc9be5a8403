package store

import "context"

type backgroundKey struct{}

// Background marks ctx's store writes as background work (post-call
// processing, retention, exports): a store with one writer (SQLite) lets
// waiting foreground writes (a call being set up, an agent's state) go
// first, so a burst of finished calls does not hold up new ones.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx was marked by Background.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}
