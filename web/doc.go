// Package web is contactd's HTTP surface: the JSON API under /api/v1 (chi),
// bearer-token auth with roles, the WebSocket event stream that drives the
// agent desktop, and the embedded UI pages.
package web
