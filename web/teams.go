package web

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/store"
)

// Teams group agents with their supervisors (store.User.Team). QA filters
// and reports by team, and a supervisor who is in a team reviews that team
// only: the QA queue, evaluations and reports of calls its agents took.
// Supervisors without a team, QA staff and admins see every team.

// teamOf is the team u's QA view is narrowed to, "" for all.
func teamOf(u store.User) string {
	if u.Role == store.RoleSupervisor {
		return u.Team
	}
	return ""
}

// inTeam reports whether the call's agent is in team ("" is everyone's).
func (s *Server) inTeam(ctx context.Context, team string, c store.Call) (bool, error) {
	if team == "" {
		return true, nil
	}
	if c.Agent == "" {
		return false, nil
	}
	a, err := s.opts.Store.UserByName(ctx, c.Agent)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil && a.Team == team, err
}

// teamFilter resolves the team a QA request asks for (query "team")
// against the user's own: a supervisor in a team may only ask for it.
func teamFilter(w http.ResponseWriter, r *http.Request) (string, bool) {
	want, own := r.URL.Query().Get("team"), teamOf(userOf(r))
	switch {
	case want != "" && !config.ValidTeam(want):
		writeError(w, http.StatusBadRequest, "team: want a lower-case name")
		return "", false
	case own != "" && want != "" && want != own:
		writeError(w, http.StatusForbidden, "supervisors in a team see their own team ("+own+")")
		return "", false
	case own != "":
		return own, true
	}
	return want, true
}

type teamJSON struct {
	Name        string   `json:"name"`
	Agents      []string `json:"agents"`
	Supervisors []string `json:"supervisors"`
	Others      []string `json:"others,omitempty"` // QA staff and admins in it
}

// listTeams is GET /teams: every team with its members, sorted by name
// (a supervisor in a team: that team).
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	us, err := s.opts.Store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	own := teamOf(userOf(r))
	by := map[string]*teamJSON{}
	for _, u := range us {
		if u.Team == "" || (own != "" && u.Team != own) {
			continue
		}
		t := by[u.Team]
		if t == nil {
			t = &teamJSON{Name: u.Team, Agents: []string{}, Supervisors: []string{}}
			by[u.Team] = t
		}
		switch u.Role {
		case store.RoleAgent:
			t.Agents = append(t.Agents, u.Username)
		case store.RoleSupervisor:
			t.Supervisors = append(t.Supervisors, u.Username)
		default:
			t.Others = append(t.Others, u.Username)
		}
	}
	out := make([]teamJSON, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"teams": out})
}

// setUserTeam is PUT /users/{username}/team {"team"} (admin): "" takes the
// user out of their team.
func (s *Server) setUserTeam(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Team *string `json:"team"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Team == nil:
		writeError(w, http.StatusBadRequest, `team: required ("" for none)`)
		return
	case *req.Team != "" && !config.ValidTeam(*req.Team):
		writeError(w, http.StatusBadRequest, "team: want a lower-case name (a-z, 0-9, '_', '.', '-')")
		return
	}
	name := chi.URLParam(r, "username")
	if err := s.opts.Store.SetUserTeam(r.Context(), name, *req.Team); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no such user")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditUserTeam, "user:"+name, "team="+*req.Team)
	u, err := s.opts.Store.UserByName(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}
