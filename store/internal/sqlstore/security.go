package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contactd/contactd/store"
)

// ---- sessions: idle expiry ----

// TouchSession records that the session was last used at at.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, Time(at))
	return notFound(n, err, "store: touch session")
}

// ---- API tokens ----

const apiTokenCols = `id, name, token_hash, role, created_by, created_at, last_used_at, revoked_at`

const qAPITokenByHash = `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`

func scanAPIToken(r Row) (store.APIToken, error) {
	var t store.APIToken
	err := r.Scan(&t.ID, &t.Name, &t.TokenHash, &t.Role, &t.CreatedBy, NullTime{&t.CreatedAt}, NullTime{&t.LastUsedAt},
		NullTime{&t.RevokedAt})
	return t, err
}

// CreateAPIToken stores t, generating an ID when t.ID is empty. A name
// taken by an unrevoked token, or a taken ID or hash, is store.ErrConflict.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	switch {
	case strings.TrimSpace(t.Name) == "":
		return errors.New("store: create api token: empty name")
	case t.TokenHash == "":
		return errors.New("store: create api token: empty token hash")
	case t.Role == "":
		return errors.New("store: create api token: empty role")
	}
	if t.ID == "" {
		t.ID = newID()
	}
	_, err := s.db.Exec(ctx, `INSERT INTO api_tokens (`+apiTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.Name, t.TokenHash, t.Role, t.CreatedBy, Time(t.CreatedAt), Time(t.LastUsedAt), Time(t.RevokedAt))
	return wrap(err, "store: create api token %q", t.Name)
}

// APITokenByHash returns the unrevoked token with the hash.
func (s *Store) APITokenByHash(ctx context.Context, tokenHash string) (store.APIToken, error) {
	t, err := scanAPIToken(s.db.QueryRow(ctx, qAPITokenByHash, tokenHash))
	return t, wrap(err, "store: api token")
}

// ListAPITokens returns every token, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.db.Query(ctx, `SELECT `+apiTokenCols+` FROM api_tokens ORDER BY created_at DESC`+s.d.NullsLast+`, id DESC`)
	if err != nil {
		return nil, wrap(err, "store: list api tokens")
	}
	ts, err := collect(rows, scanAPIToken)
	return ts, wrap(err, "store: list api tokens")
}

// RevokeAPIToken marks the token revoked; an absent or already revoked
// token is store.ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) (store.APIToken, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var t store.APIToken
	err := s.db.InTx(ctx, func(tx DB) error {
		n, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, Time(at))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		t, err = scanAPIToken(tx.QueryRow(ctx, `SELECT `+apiTokenCols+` FROM api_tokens WHERE id = $1`, id))
		return err
	})
	return t, wrap(err, "store: revoke api token %q", id)
}

// TouchAPIToken records when the token was last used.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, Time(at))
	return notFound(n, err, "store: touch api token %q", id)
}

// ---- agents' own calls ----

func qListCallsOf(d Dialect) string {
	return `SELECT ` + callCols + ` FROM calls WHERE agent = $1 ORDER BY started_at DESC` + d.NullsLast + `, id DESC LIMIT $2`
}

// ListCallsOf returns up to limit calls agent answered, newest first.
func (s *Store) ListCallsOf(ctx context.Context, agent string, limit int) ([]store.Call, error) {
	if agent == "" {
		return []store.Call{}, nil
	}
	rows, err := s.db.Query(ctx, qListCallsOf(s.d), agent, limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: calls of agent %q", agent)
	}
	cs, err := collect(rows, scanCall)
	return cs, wrap(err, "store: calls of agent %q", agent)
}

// ---- audit log ----

const auditCols = `id, at, actor, action, target, detail, ip`

// AppendAudit adds e (At defaults to now). The table refuses UPDATE and
// DELETE (triggers in both dialects), so this is the only way in.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if strings.TrimSpace(e.Action) == "" {
		return errors.New("store: append audit: empty action")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.db.Exec(ctx, `INSERT INTO audit_log (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		Time(e.At), e.Actor, e.Action, e.Target, e.Detail, e.IP)
	return wrap(err, "store: append audit %q", e.Action)
}

// ListAudit returns the entries f selects, newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.v != "" {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(Time(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(Time(f.To)))
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(limitOr(f.Limit))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "store: list audit")
	}
	es, err := collect(rows, func(r Row) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.ID, NullTime{&e.At}, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.IP)
		return e, err
	})
	if es == nil && err == nil {
		es = []store.AuditEntry{}
	}
	return es, wrap(err, "store: list audit")
}
