package sip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028): a call whose caller asks for them (Supported:
// timer or Session-Expires) gets an interval no longer than
// Config.SessionExpires; the refresher re-INVITEs or UPDATEs before half of
// it has passed. When the caller refreshes and does not, the watchdog ends
// the call; when we refresh, it sends the re-INVITEs.

const statusIntervalTooBrief = 422

// sessionTimer is a negotiated session timer; interval 0 means none.
type sessionTimer struct {
	interval  time.Duration
	refresher string // "uac" (the caller) or "uas" (us)
}

func (t sessionTimer) header() string {
	return seconds(t.interval) + ";refresher=" + t.refresher
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

func reasonFor(code int) string {
	if code == statusIntervalTooBrief {
		return "Session Interval Too Small"
	}
	return "Bad Request"
}

// hasOption reports whether a Supported or Require header lists tag.
func hasOption(req *sipmsg.Request, header, tag string) bool {
	for _, h := range req.GetHeaders(header) {
		for _, v := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(v), tag) {
				return true
			}
		}
	}
	return false
}

// headerValue is the first value of a header by long or compact name.
func headerValue(req *sipmsg.Request, names ...string) string {
	for _, n := range names {
		if h := req.GetHeader(n); h != nil {
			return strings.TrimSpace(h.Value())
		}
	}
	return ""
}

var errTimerHeader = errors.New("bad session timer header")

// negotiateTimer decides the session timer of an INVITE or refresh. It
// returns a zero timer when the caller does not use timers or we have them
// disabled, and an error with code 422 or 400 to refuse the request.
func (s *Server) negotiateTimer(req *sipmsg.Request) (sessionTimer, int, error) {
	if s.cfg.SessionExpires < 0 {
		return sessionTimer{}, 0, nil
	}
	supports := hasOption(req, "Supported", "timer") || hasOption(req, "k", "timer")
	se := headerValue(req, "Session-Expires", "x")
	if se == "" && !supports {
		return sessionTimer{}, 0, nil
	}
	interval := s.cfg.SessionExpires
	refresher := ""
	if se != "" {
		val, params, _ := strings.Cut(se, ";")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n <= 0 {
			return sessionTimer{}, sipmsg.StatusBadRequest, fmt.Errorf("%w: Session-Expires %q", errTimerHeader, se)
		}
		asked := time.Duration(n) * time.Second
		if asked < s.cfg.MinSE {
			return sessionTimer{}, statusIntervalTooBrief, fmt.Errorf("session interval %ds is below our minimum %s", n, seconds(s.cfg.MinSE))
		}
		interval = min(interval, asked)
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "refresher") {
				refresher = strings.ToLower(strings.TrimSpace(v))
			}
		}
	}
	if m := headerValue(req, "Min-SE"); m != "" {
		val, _, _ := strings.Cut(m, ";")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 {
			return sessionTimer{}, sipmsg.StatusBadRequest, fmt.Errorf("%w: Min-SE %q", errTimerHeader, m)
		}
		interval = max(interval, time.Duration(n)*time.Second)
	}
	if refresher != "uac" && refresher != "uas" {
		refresher = "uas"
		if supports {
			refresher = "uac"
		}
	}
	if !supports {
		refresher = "uas" // RFC 4028 9: the caller cannot be told to refresh
	}
	return sessionTimer{interval: interval, refresher: refresher}, 0, nil
}

// timerHeaders are the 2xx headers for a negotiated timer.
func timerHeaders(req *sipmsg.Request, t sessionTimer) []sipmsg.Header {
	if t.interval <= 0 {
		return nil
	}
	hdrs := []sipmsg.Header{sipmsg.NewHeader("Session-Expires", t.header())}
	if hasOption(req, "Supported", "timer") || hasOption(req, "k", "timer") {
		hdrs = append(hdrs, sipmsg.NewHeader("Require", "timer"))
	}
	return hdrs
}

// refreshTimer treats an in-dialog re-INVITE or UPDATE as a session
// refresh and returns the headers for its 2xx.
func (s *Server) refreshTimer(st *callState, req *sipmsg.Request) ([]sipmsg.Header, int, error) {
	t, code, err := s.negotiateTimer(req)
	if err != nil {
		return nil, code, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if t.interval > 0 {
		st.timer = t
	}
	st.refreshedAt = time.Now()
	return timerHeaders(req, st.timer), 0, nil
}
