package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ivrStats is the IVR's analytics: callers reaching and leaving each node,
// outcomes (containment rate) and misroutes, since ?since= (RFC 3339;
// default the last 24 hours).
func (s *Server) ivrStats(w http.ResponseWriter, r *http.Request) {
	since, ok := sinceParam(w, r, 24*time.Hour)
	if !ok {
		return
	}
	st, err := s.opts.Store.IVRStats(r.Context(), since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	contained := 0.0
	if st.Calls > 0 {
		contained = float64(st.Outcomes["contained"]) / float64(st.Calls)
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "calls": st.Calls, "outcomes": st.Outcomes,
		"containment_rate": contained, "misroutes": st.Misroutes, "nodes": st.Nodes})
}

// maxMisroutes bounds one misroute export.
const maxMisroutes = 5000

// misroutesTSV exports the calls whose ticket an agent re-categorised,
// since ?since= (RFC 3339; default the last 30 days), as training lines
// for the IVR's classifier: `corrected intent<TAB>what the caller said to
// the IVR` (the caller's words before an agent first spoke), the format
// of ivr.training_data and ivr-eval. Calls without such words, and
// corrections to a category the configuration does not know, are left
// out; at most maxMisroutes calls.
func (s *Server) misroutesTSV(w http.ResponseWriter, r *http.Request) {
	since, ok := sinceParam(w, r, 30*24*time.Hour)
	if !ok {
		return
	}
	ms, err := s.opts.Store.Misroutes(r.Context(), since, maxMisroutes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	known := map[string]bool{}
	for _, c := range s.categories() {
		known[c] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# contactd: calls since %s whose category an agent corrected: the corrected intent, then what the caller said to the IVR\n", since.UTC().Format(time.RFC3339))
	for _, m := range ms {
		if m.To == "" || len(known) > 0 && !known[m.To] {
			continue
		}
		if m.Said != "" {
			b.WriteString(m.To + "\t" + m.Said + "\n")
		}
	}
	w.Header().Set("Content-Type", "text/tab-separated-values; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="misroutes.tsv"`)
	_, _ = io.WriteString(w, b.String())
}

// sinceParam is the request's ?since= (RFC 3339), or back before now when
// it has none; a malformed one is answered 400 and ok is false.
func sinceParam(w http.ResponseWriter, r *http.Request, back time.Duration) (since time.Time, ok bool) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return time.Now().Add(-back), true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		writeError(w, http.StatusBadRequest, "since: want an RFC 3339 time like 2026-11-21T00:00:00Z")
		return time.Time{}, false
	}
	return t, true
}
