// Package web is contactd's HTTP surface: the JSON API under /api/v1 (chi),
// the WebSocket event stream that drives the agent desktop, and the embedded
// UI pages.
//
// Access is one declared table, Access (access.go): route pattern and method
// → public or the roles allowed. The guard middleware applies it to every
// request, authenticating bearer tokens (sessions with absolute and idle
// expiry, or named API tokens with a role); a route missing from the table
// is refused and fails TestEveryRouteHasAPolicy. Agents are narrowed further
// to their own calls, tickets, recordings, transcripts and evaluations
// (scope.go), others' answering 404. Logins are rate-limited per address and
// username (limiter.go), and security-relevant actions go to the store's
// append-only audit log (audit.go). Every response carries the security
// headers, and HSTS over TLS (security.go).
//
// Recordings (decrypted on the fly when encrypted at rest) play from
// signed, short-lived URLs that need no token (signed.go; Policy.Signed).
// Teams (teams.go) group agents with their supervisors: QA filters and
// reports by team, and a supervisor in a team reviews that team only.
// Imports (wavimport.go) take a transcript as JSON or a recorded call as a
// WAV upload, transcribed with Options.Recognizer (asr/transcribe). SLA
// breaches the tickets.Watcher finds reach supervisors and the assignee
// as "sla_breach" events (sla.go); webhook dead letters are listed and
// replayed by admins (webhooks.go).
//
// Operations (ops.go): GET /metrics for admins or a scraper's token
// (Policy.Scrape), the pprof profiles for admins, and the erasure of one
// customer's personal data.
package web
