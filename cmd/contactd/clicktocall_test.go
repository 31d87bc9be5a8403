package main

import (
	"strings"
	"testing"
)

// TestClickToCallRefusedNumber: an agent's click-to-call to a number the
// trunk blocks (premium rate) is refused as not permitted (403, and the
// message says so), not as a bad transfer target; nothing is dialled
// (the trunk's outbound URI is a port nothing answers on).
func TestClickToCallRefusedNumber(t *testing.T) {
	s := startTestServer(t, [2]string{
		`      # outbound: {uri: "sip:sip.carrier.example:5060", username: acct, password: secret, from: "+15550100"}`,
		`      outbound: {uri: "sip:127.0.0.1:9", from: "+15550100"}`,
	})
	var login struct{ Token string }
	if st := s.api(t, "", "POST", "/api/v1/auth/login", `{"username":"bob","password":"bob-demo"}`, &login); st != 200 {
		t.Fatalf("bob's login: %d", st)
	}
	var out struct {
		Error  string `json:"error"`
		CallID string `json:"call_id"`
	}
	st := s.api(t, login.Token, "POST", "/api/v1/calls/outbound", `{"number":"+1 900 555 0101"}`, &out)
	if st != 403 || out.CallID != "" {
		t.Fatalf("click-to-call to +1 900 555 0101: %d %+v, want 403", st, out)
	}
	if !strings.HasPrefix(out.Error, "number not permitted: ") || !strings.Contains(out.Error, "blocked range +1900") ||
		strings.Contains(out.Error, "transfer") {
		t.Errorf("refusal %q, want \"number not permitted: … blocked range +1900 …\"", out.Error)
	}
}
