package web

import (
	"net/http"

	"github.com/contactd/contactd/store"
)

// Audit log actions. Targets are "<kind>:<id>" (user:erin, ticket:tkt_1,
// call:c1, evaluation:ev_1, token:tok_1, ip:192.0.2.1).
const (
	AuditLogin           = "login"
	AuditLoginFailed     = "login.failed"
	AuditLoginLocked     = "login.locked" // a failure reached the limit: further logins get 429
	AuditLogout          = "logout"
	AuditTokenCreate     = "token.create"
	AuditTokenRevoke     = "token.revoke" // revocation is the API's only deletion
	AuditUserCreate      = "user.create"
	AuditAgentUpdate     = "agent.update" // skills and capacity: routing configuration
	AuditCallImport      = "call.import"
	AuditRecordingPlay   = "recording.play"
	AuditRecordingDown   = "recording.download"
	AuditTicketUpdate    = "ticket.update"
	AuditTicketNote      = "ticket.note"
	AuditEvalOverride    = "evaluation.override"
	AuditEvalAck         = "evaluation.ack"
	AuditEvalCalibration = "evaluation.calibrate"
	AuditUserTeam        = "user.team"
	AuditWebhookReplay   = "webhook.replay"
	AuditSLABreach       = "ticket.sla_breach" // by the system: the breach watcher
)

// audit appends an entry by the request's user. A failure to write it is
// logged, not returned: the change it records has already been made.
func (s *Server) audit(r *http.Request, action, target, detail string) {
	s.auditAs(r, userOf(r).Username, action, target, detail)
}

func (s *Server) auditAs(r *http.Request, actor, action, target, detail string) {
	if err := s.appendAudit(r, actor, action, target, detail); err != nil {
		s.opts.Log.Error("audit log write failed", "action", action, "actor", actor, "target", target, "err", err)
	}
}

func (s *Server) appendAudit(r *http.Request, actor, action, target, detail string) error {
	return s.opts.Store.AppendAudit(r.Context(), store.AuditEntry{At: s.now(), Actor: actor, Action: action,
		Target: target, Detail: detail, IP: clientIP(r)})
}

// listAudit is GET /audit?actor=&action=&target=&from=&to=&before=&limit=:
// newest first; next_before pages back.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Limit: 100}
	var err error
	if f.From, f.To, err = queryRange(q); err == nil {
		if f.Before, err = queryBefore(q); err == nil {
			f.Limit, err = queryLimit(q, 100)
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := s.opts.Store.ListAudit(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"entries": es}
	if len(es) == f.Limit {
		out["next_before"] = es[len(es)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
