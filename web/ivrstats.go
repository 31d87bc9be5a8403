package web

import (
	"net/http"
	"time"
)

// ivrStats is the IVR's analytics: callers reaching and leaving each node,
// outcomes (containment rate) and misroutes, since ?since= (RFC 3339;
// default the last 24 hours).
func (s *Server) ivrStats(w http.ResponseWriter, r *http.Request) {
	since := time.Now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: want an RFC 3339 time like 2026-11-21T00:00:00Z")
			return
		}
		since = t
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
