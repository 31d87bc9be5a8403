package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// RawSQL runs one SQL statement straight on the database that open(t)
// opened for t, with the application's own credentials but bypassing the
// Store — as a compromised or careless application could. The suite uses
// it to prove that the audit log refuses changes.
type RawSQL func(t *testing.T, query string) error

func testSessionIdle(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateUser(c, store.User{ID: "u1", Username: "alice"}), "CreateUser")
	now := time.Now()
	sess := store.Session{TokenHash: "h", UserID: "u1", ExpiresAt: now.Add(time.Hour), CreatedAt: now, LastSeenAt: now}
	must(t, s.CreateSession(c, sess), "CreateSession")
	got, err := s.SessionByTokenHash(c, "h")
	must(t, err, "SessionByTokenHash")
	equal(t, got.LastSeenAt, ms(now), "LastSeenAt")
	later := now.Add(5 * time.Minute)
	must(t, s.TouchSession(c, "h", later), "TouchSession")
	got, err = s.SessionByTokenHash(c, "h")
	must(t, err, "SessionByTokenHash after touch")
	equal(t, got.LastSeenAt, ms(later), "LastSeenAt after touch")
	equal(t, got.CreatedAt, ms(now), "CreatedAt after touch")
	wantErr(t, s.TouchSession(c, "absent", later), store.ErrNotFound, "TouchSession absent")
}

func testAPITokens(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	tok := store.APIToken{ID: "t1", Name: "crm", TokenHash: "hash1", Role: store.RoleSupervisor, CreatedBy: "admin", CreatedAt: base}
	must(t, s.CreateAPIToken(c, tok), "CreateAPIToken")
	got, err := s.APITokenByHash(c, "hash1")
	must(t, err, "APITokenByHash")
	want := tok
	want.CreatedAt = ms(base)
	equal(t, got, want, "APITokenByHash")
	_, err = s.APITokenByHash(c, "nope")
	wantErr(t, err, store.ErrNotFound, "APITokenByHash absent")

	wantErr(t, s.CreateAPIToken(c, store.APIToken{ID: "t2", Name: "crm", TokenHash: "hash2", Role: store.RoleQA}),
		store.ErrConflict, "CreateAPIToken with a name in use")
	wantErr(t, s.CreateAPIToken(c, store.APIToken{ID: "t3", Name: "other", TokenHash: "hash1", Role: store.RoleQA}),
		store.ErrConflict, "CreateAPIToken with a taken hash")
	for _, bad := range []store.APIToken{{Name: "", TokenHash: "x", Role: "qa"}, {Name: "x", Role: "qa"}, {Name: "x", TokenHash: "y"}} {
		if err := s.CreateAPIToken(c, bad); err == nil {
			t.Errorf("CreateAPIToken(%+v) succeeded", bad)
		}
	}

	used := base.Add(time.Minute)
	must(t, s.TouchAPIToken(c, "t1", used), "TouchAPIToken")
	wantErr(t, s.TouchAPIToken(c, "nope", used), store.ErrNotFound, "TouchAPIToken absent")

	revoked := base.Add(time.Hour)
	r, err := s.RevokeAPIToken(c, "t1", revoked)
	must(t, err, "RevokeAPIToken")
	if !r.RevokedAt.Equal(ms(revoked)) || !r.LastUsedAt.Equal(ms(used)) || r.Name != "crm" {
		t.Errorf("revoked token %+v", r)
	}
	_, err = s.RevokeAPIToken(c, "t1", revoked)
	wantErr(t, err, store.ErrNotFound, "RevokeAPIToken twice")
	_, err = s.RevokeAPIToken(c, "nope", revoked)
	wantErr(t, err, store.ErrNotFound, "RevokeAPIToken absent")
	_, err = s.APITokenByHash(c, "hash1")
	wantErr(t, err, store.ErrNotFound, "APITokenByHash after revoke")

	// A revoked token's name may be used again.
	must(t, s.CreateAPIToken(c, store.APIToken{ID: "t4", Name: "crm", TokenHash: "hash4", Role: store.RoleAgent, CreatedAt: base.Add(2 * time.Hour)}),
		"CreateAPIToken reusing a revoked name")
	list, err := s.ListAPITokens(c)
	must(t, err, "ListAPITokens")
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	equal(t, ids, []string{"t4", "t1"}, "ListAPITokens newest first")
}

func testCallsOf(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for i, x := range []struct{ id, agent string }{{"a1", "alice"}, {"b1", "bob"}, {"a2", "alice"}, {"n1", ""}, {"a3", "alice"}} {
		must(t, s.CreateCall(c, store.Call{ID: x.id, Agent: x.agent, StartedAt: base.Add(time.Duration(i) * time.Minute)}), "CreateCall")
	}
	for _, tc := range []struct {
		agent string
		limit int
		want  []string
	}{
		{"alice", 10, []string{"a3", "a2", "a1"}},
		{"alice", 2, []string{"a3", "a2"}},
		{"bob", 0, []string{"b1"}},
		{"carol", 10, nil},
		{"", 10, nil}, // no agent owns the agentless calls
	} {
		got, err := s.ListCallsOf(c, tc.agent, tc.limit)
		must(t, err, "ListCallsOf")
		var ids []string
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		equal(t, ids, tc.want, fmt.Sprintf("ListCallsOf(%q, %d)", tc.agent, tc.limit))
	}
}

func testTicketsOf(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateCall(c, store.Call{ID: "ca", Agent: "alice", StartedAt: base}), "CreateCall ca")
	must(t, s.CreateCall(c, store.Call{ID: "cb", Agent: "bob", StartedAt: base}), "CreateCall cb")
	must(t, s.CreateCall(c, store.Call{ID: "ca2", Agent: "alice", StartedAt: base.Add(time.Hour)}), "CreateCall ca2")
	mk := func(id, call, assignee string, at time.Duration) tickets.Ticket {
		return tickets.Ticket{ID: id, CallID: call, Assignee: assignee, Status: "open", Subject: "s " + id,
			CreatedAt: base.Add(at * time.Minute), UpdatedAt: base.Add(at * time.Minute)}
	}
	for _, x := range []tickets.Ticket{
		mk("from-alice", "ca", "", 1),
		mk("from-bob", "cb", "", 2),
		mk("bob-assigned-alice", "cb", "alice", 3),
		mk("imported", "", "", 4),
		mk("linked", "cb", "", 5), // bob's, then alice took the repeat call
	} {
		must(t, s.CreateTicket(c, x), "CreateTicket "+x.ID)
	}
	must(t, s.AddTicketEvents(c, []tickets.Event{{TicketID: "linked", At: base.Add(time.Hour), Actor: tickets.ActorSystem,
		Field: tickets.FieldLinkedCall, New: "ca2"}}), "AddTicketEvents")
	for _, tc := range []struct {
		owner string
		f     tickets.Filter
		want  []string
	}{
		{"alice", tickets.Filter{}, []string{"linked", "bob-assigned-alice", "from-alice"}},
		{"alice", tickets.Filter{Limit: 1, Offset: 1}, []string{"bob-assigned-alice"}},
		{"alice", tickets.Filter{Query: "alice"}, []string{"bob-assigned-alice", "from-alice"}},
		{"bob", tickets.Filter{}, []string{"linked", "bob-assigned-alice", "from-bob"}},
		{"carol", tickets.Filter{}, []string{}},
		{"", tickets.Filter{}, []string{}},
	} {
		got, err := s.ListTicketsOf(c, tc.owner, tc.f)
		must(t, err, "ListTicketsOf")
		ids := []string{}
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		equal(t, ids, tc.want, fmt.Sprintf("ListTicketsOf(%q, %+v)", tc.owner, tc.f))
	}
}

func testAudit(t *testing.T, open Opener, raw RawSQL) {
	s, c := open(t), ctx(t)
	entries := []store.AuditEntry{
		{At: base, Actor: "alice", Action: "login", IP: "192.0.2.1"},
		{At: base.Add(time.Minute), Actor: "mallory", Action: "login.failed", IP: "198.51.100.7"},
		{At: base.Add(2 * time.Minute), Actor: "alice", Action: "ticket.update", Target: "ticket:t1", Detail: "status open→solved"},
		{At: base.Add(3 * time.Minute), Actor: "admin", Action: "recording.download", Target: "call:c1"},
		{At: base.Add(4 * time.Minute), Actor: "alice", Action: "logout"},
	}
	for _, e := range entries {
		must(t, s.AppendAudit(c, e), "AppendAudit "+e.Action)
	}
	if err := s.AppendAudit(c, store.AuditEntry{Actor: "x"}); err == nil {
		t.Error("AppendAudit without an action succeeded")
	}
	all, err := s.ListAudit(c, store.AuditFilter{})
	must(t, err, "ListAudit")
	if len(all) != len(entries) {
		t.Fatalf("ListAudit: %d entries, want %d", len(all), len(entries))
	}
	for i, got := range all {
		want := entries[len(entries)-1-i]
		want.ID, want.At = got.ID, ms(want.At)
		equal(t, got, want, fmt.Sprintf("ListAudit[%d]", i))
		if i > 0 && got.ID >= all[i-1].ID {
			t.Errorf("ListAudit: IDs not decreasing: %d after %d", got.ID, all[i-1].ID)
		}
	}
	actions := func(es []store.AuditEntry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Action)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"actor", store.AuditFilter{Actor: "alice"}, []string{"logout", "ticket.update", "login"}},
		{"action", store.AuditFilter{Action: "login.failed"}, []string{"login.failed"}},
		{"target", store.AuditFilter{Target: "call:c1"}, []string{"recording.download"}},
		{"time", store.AuditFilter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []string{"ticket.update", "login.failed"}},
		{"limit", store.AuditFilter{Limit: 2}, []string{"logout", "recording.download"}},
		{"page back", store.AuditFilter{Before: all[1].ID, Limit: 2}, []string{"ticket.update", "login.failed"}},
		{"actor paged", store.AuditFilter{Actor: "alice", Before: all[0].ID}, []string{"ticket.update", "login"}},
		{"nothing", store.AuditFilter{Actor: "nobody"}, []string{}},
	} {
		got, err := s.ListAudit(c, tc.f)
		must(t, err, "ListAudit "+tc.name)
		equal(t, actions(got), tc.want, "ListAudit "+tc.name)
	}

	if raw == nil {
		t.Fatal("no RawSQL: the suite cannot check that the audit log is append-only")
	}
	for _, q := range []string{
		`UPDATE audit_log SET actor = 'someone-else' WHERE actor = 'alice'`,
		`UPDATE audit_log SET detail = ''`,
		`DELETE FROM audit_log WHERE action = 'login.failed'`,
		`DELETE FROM audit_log`,
	} {
		if err := raw(t, q); err == nil {
			t.Errorf("%s: succeeded, want the database to refuse it", q)
		}
	}
	// Nothing changed, and the log still takes new entries.
	after, err := s.ListAudit(c, store.AuditFilter{})
	must(t, err, "ListAudit after tampering")
	equal(t, after, all, "audit log after refused UPDATE/DELETE")
	must(t, s.AppendAudit(c, store.AuditEntry{Actor: "admin", Action: "after"}), "AppendAudit after tampering")
	if got, err := s.ListAudit(c, store.AuditFilter{Limit: 1}); err != nil || len(got) != 1 || got[0].Action != "after" || got[0].ID <= all[0].ID {
		t.Errorf("newest entry after tampering: %+v, %v", got, err)
	}
}
