package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/store"
)

// API tokens let integrations call the API without a person's session:
// an admin creates a named token with a role, sees its secret once, and
// may revoke it. Only the secret's SHA-256 is stored. A token acts as the
// user "token:<name>" with its role, and is used like a session token:
// Authorization: Bearer cdt_….

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

type apiTokenJSON struct {
	store.APIToken
	Token string `json:"token,omitempty"` // only in the answer to its creation
}

// createToken is POST /tokens {"name","role"}.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case !tokenNameRE.MatchString(req.Name):
		writeError(w, http.StatusBadRequest, "name: want 1-64 letters, digits, '.', '_' or '-'")
		return
	case !validRole(req.Role):
		writeError(w, http.StatusBadRequest, "role: want admin, supervisor, qa or agent")
		return
	}
	secret := apiTokenPrefix + newSecret()
	t := store.APIToken{ID: call.NewID("tok"), Name: req.Name, TokenHash: tokenHash(secret), Role: req.Role,
		CreatedBy: userOf(r).Username, CreatedAt: s.now()}
	if err := s.opts.Store.CreateAPIToken(r.Context(), t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, fmt.Sprintf("a token named %q is in use; revoke it first", req.Name))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditTokenCreate, "token:"+t.ID, "name="+t.Name+" role="+t.Role)
	writeJSON(w, http.StatusCreated, apiTokenJSON{APIToken: t, Token: secret})
}

// listTokens is GET /tokens: names, roles and use, never the secrets.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.opts.Store.ListAPITokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []store.APIToken{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// revokeToken is DELETE /tokens/{id}: the token stops working at once.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	t, err := s.opts.Store.RevokeAPIToken(r.Context(), id, s.now())
	if err != nil {
		if isNotFound(err) {
			writeError(w, http.StatusNotFound, "no such token in use")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditTokenRevoke, "token:"+t.ID, "name="+t.Name)
	w.WriteHeader(http.StatusNoContent)
}
