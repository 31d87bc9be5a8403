package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
)

// liveCalls is a call manager that records live call control requests and
// answers with err.
type liveCalls struct {
	stubCalls
	mu  sync.Mutex
	got []string
	err error
}

func (l *liveCalls) note(format string, a ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf(format, a...))
	return l.err
}

func (l *liveCalls) Hold(_ context.Context, id, agent string, on bool) error {
	return l.note("hold %s %s %t", id, agent, on)
}
func (l *liveCalls) SendDTMF(_ context.Context, id, agent, digits string) error {
	return l.note("dtmf %s %s %s", id, agent, digits)
}
func (l *liveCalls) Consult(_ context.Context, id, agent, target string) error {
	return l.note("consult %s %s %s", id, agent, target)
}
func (l *liveCalls) AnswerConsult(_ context.Context, id, agent, sdp string) (string, error) {
	return "v=0 answer", l.note("answer %s %s", id, agent)
}
func (l *liveCalls) DeclineConsult(_ context.Context, id, agent string) error {
	return l.note("decline %s %s", id, agent)
}
func (l *liveCalls) CancelConsult(_ context.Context, id, agent string) error {
	return l.note("cancel %s %s", id, agent)
}
func (l *liveCalls) CompleteConsult(_ context.Context, id, agent string) error {
	return l.note("complete %s %s", id, agent)
}
func (l *liveCalls) Monitor(_ context.Context, id, sup, mode, sdp string) (string, error) {
	answer := ""
	if sdp != "" {
		answer = "v=0 monitor"
	}
	return answer, l.note("monitor %s %s %s %t", id, sup, mode, sdp != "")
}
func (l *liveCalls) StopMonitor(_ context.Context, id, sup string) error {
	return l.note("stop %s %s", id, sup)
}
func (l *liveCalls) PauseRecording(_ context.Context, id, user string, supervisor, on bool) error {
	return l.note("recording %s %s supervisor=%t pause=%t", id, user, supervisor, on)
}
func (l *liveCalls) LiveCalls() []call.LiveCall {
	return []call.LiveCall{{CallID: "c1", Agent: "ann", From: "+15550100", Held: true, Monitors: map[string]string{"sam": "listen"}}}
}

// TestLiveCallRoutes: each route reaches the manager with the caller's
// name, bad input is refused before it, and the manager's errors become
// statuses the pages can act on.
func TestLiveCallRoutes(t *testing.T) {
	lc := &liveCalls{}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := newAPIWith(t, st, func(o *Options) { o.Calls = lc })
	for _, u := range []struct{ name, role string }{{"ann", store.RoleAgent}, {"sam", store.RoleSupervisor}, {"quinn", store.RoleQA}} {
		if _, err := CreateUser(ctx, f.store, f.router, "", u.name, u.name+"-password", u.role); err != nil {
			t.Fatal(err)
		}
	}
	ann, sam, qa := f.login(t, "ann", "ann-password"), f.login(t, "sam", "sam-password"), f.login(t, "quinn", "quinn-password")
	const sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
	for _, c := range []struct {
		tok, method, path string
		body              any
		want              int
		got               string // what the manager was asked; "" none
	}{
		{ann, "POST", "/api/v1/calls/c1/hold", nil, 204, "hold c1 ann true"},
		{ann, "POST", "/api/v1/calls/c1/resume", nil, 204, "hold c1 ann false"},
		{ann, "POST", "/api/v1/calls/c1/dtmf", map[string]string{"digits": "12#"}, 202, "dtmf c1 ann 12#"},
		{ann, "POST", "/api/v1/calls/c1/dtmf", map[string]any{"keys": "1"}, 400, ""},
		{ann, "POST", "/api/v1/calls/c1/consult", map[string]string{"target": " "}, 400, ""},
		{ann, "POST", "/api/v1/calls/c1/consult", map[string]string{"target": "agent:bo"}, 202, "consult c1 ann agent:bo"},
		{ann, "POST", "/api/v1/calls/c1/consult/answer", map[string]string{"sdp": "hello"}, 400, ""},
		{ann, "POST", "/api/v1/calls/c1/consult/answer", map[string]string{"sdp": sdp}, 200, "answer c1 ann"},
		{ann, "POST", "/api/v1/calls/c1/consult/decline", nil, 204, "decline c1 ann"},
		{ann, "POST", "/api/v1/calls/c1/consult/cancel", nil, 204, "cancel c1 ann"},
		{ann, "POST", "/api/v1/calls/c1/consult/complete", nil, 204, "complete c1 ann"},
		{ann, "POST", "/api/v1/calls/c1/consult/maybe", nil, 404, ""},
		{ann, "POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "listen"}, 403, ""},
		{sam, "POST", "/api/v1/calls/c1/hold", nil, 403, ""},
		{sam, "POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "barge", "sdp": sdp}, 200, "monitor c1 sam barge true"},
		{sam, "POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "whisper"}, 204, "monitor c1 sam whisper false"},
		{sam, "DELETE", "/api/v1/calls/c1/monitor", nil, 204, "stop c1 sam"},
		{ann, "POST", "/api/v1/calls/c1/recording/pause", nil, 204, "recording c1 ann supervisor=false pause=true"},
		{ann, "POST", "/api/v1/calls/c1/recording/resume", nil, 204, "recording c1 ann supervisor=false pause=false"},
		{sam, "POST", "/api/v1/calls/c1/recording/resume", nil, 204, "recording c1 sam supervisor=true pause=false"},
		{qa, "POST", "/api/v1/calls/c1/recording/pause", nil, 403, ""},
	} {
		lc.got = nil
		body := c.body
		if body == nil && c.method == "POST" {
			body = map[string]string{}
		}
		if got := f.do(t, c.tok, c.method, c.path, body, nil); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
		if got := strings.Join(lc.got, "; "); got != c.got {
			t.Errorf("%s %s asked the manager %q, want %q", c.method, c.path, got, c.got)
		}
	}
	// The wallboard's snapshot: supervisors only.
	var live struct {
		Calls []call.LiveCall `json:"calls"`
	}
	if got := f.do(t, ann, "GET", "/api/v1/calls/live", nil, nil); got != 403 {
		t.Errorf("an agent listing live calls: %d, want 403", got)
	}
	if got := f.do(t, sam, "GET", "/api/v1/calls/live", nil, &live); got != 200 || len(live.Calls) != 1 ||
		!live.Calls[0].Held || live.Calls[0].Monitors["sam"] != "listen" || live.Calls[0].Agent != "ann" {
		t.Errorf("live calls: %d %+v", got, live)
	}
	var answer sdpJSON
	if got := f.do(t, sam, "POST", "/api/v1/calls/c1/monitor", map[string]string{"sdp": sdp}, &answer); got != 200 || answer.SDP != "v=0 monitor" {
		t.Errorf("monitor with an offer: %d %+v", got, answer)
	}
	es, err := f.store.ListAudit(ctx, store.AuditFilter{Action: AuditCallMonitor})
	if err != nil || len(es) != 3 || es[0].Actor != "sam" || es[0].Target != "call:c1" {
		t.Errorf("monitor audit = %+v, %v; want three entries by sam on call:c1", es, err)
	}

	for action, want := range map[string]int{AuditRecordingPause: 1, AuditRecordingResume: 2} {
		es, err := f.store.ListAudit(ctx, store.AuditFilter{Action: action})
		if err != nil || len(es) != want || es[len(es)-1].Target != "call:c1" {
			t.Errorf("%s audit = %+v, %v; want %d on call:c1", action, es, err, want)
		}
	}
	lc.err = fmt.Errorf("%w: the recording is already paused", call.ErrBusy)
	if got := f.do(t, ann, "POST", "/api/v1/calls/c1/recording/pause", map[string]string{}, nil); got != 409 {
		t.Errorf("pause of a paused recording: %d, want 409", got)
	}
	if es, _ := f.store.ListAudit(ctx, store.AuditFilter{Action: AuditRecordingPause}); len(es) != 1 {
		t.Errorf("a refused pause was audited: %+v", es)
	}

	for err, want := range map[error]int{
		fmt.Errorf("%w: digits", call.ErrBadArg):             400,
		fmt.Errorf("%w: x", call.ErrBadTarget):               400,
		fmt.Errorf("%w: +1900", call.ErrNotPermitted):        403,
		fmt.Errorf("%w: held", call.ErrOnHold):               409,
		call.ErrNoConsult:                                    409,
		fmt.Errorf("%w: bob is break", routing.ErrAgentAway): 409,
		fmt.Errorf("%w: c9", call.ErrNotBridged):             409,
		fmt.Errorf("%w: not yours", call.ErrNotYours):        409,
		fmt.Errorf("%w: c9", call.ErrNoSuchCall):             404,
	} {
		lc.err = err
		if got := f.do(t, ann, "POST", "/api/v1/calls/c9/hold", map[string]string{}, nil); got != want {
			t.Errorf("hold answering %v: %d, want %d", err, got, want)
		}
	}
}
