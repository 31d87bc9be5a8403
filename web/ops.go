package web

import (
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/privacy"
)

// metrics is GET /metrics: the Prometheus exposition, for admins or a
// scraper presenting Options.MetricsToken (Policy.Scrape).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.opts.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are not enabled on this server")
		return
	}
	s.opts.Metrics.ServeHTTP(w, r)
}

// scraper reports whether r carries the configured metrics token.
func (s *Server) scraper(r *http.Request) bool {
	tok, ok := bearer(r)
	return ok && s.opts.MetricsToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.MetricsToken)) == 1
}

// profile is /debug/pprof/*: the runtime profiles (net/http/pprof), for
// admins only — they reveal the process's internals and cost CPU.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r) // the index, or a named profile (heap, goroutine, …)
	}
}

// eraseCustomer is POST /customers/{number}/erase (admin): the customer's
// recordings, transcripts, pending callbacks and the personal data in
// their tickets go;
// ticket rows stay, redacted, for the statistics. The answer counts what
// went; the audit log records it (without the number).
func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	number, err := url.PathUnescape(chi.URLParam(r, "number"))
	number = strings.TrimSpace(number)
	if err != nil || number == "" || len(number) > 64 {
		writeError(w, http.StatusBadRequest, "number: want 1-64 characters, the caller number as calls record it")
		return
	}
	var armed privacy.Callbacks // the callbacks waiting on this node
	if cb, ok := s.opts.Calls.(privacy.Callbacks); ok {
		armed = cb
	}
	e, err := privacy.EraseCustomer(r.Context(), s.opts.Store, s.files(), armed, number, userOf(r).Username, clientIP(r), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
