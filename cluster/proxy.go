package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// forwardedHeader marks a request one node passed to another; it is never
// passed on again.
const forwardedHeader = "X-Contactd-Forwarded-By"

// Proxy passes requests about a call that another node owns (the call's
// media lives there: answering with an SDP offer, hang-up, hold, transfer,
// its recording) to that node's URL. Sessions and API tokens are in the
// shared database, so the owner authenticates the request itself. Other
// requests go to next.
func (n *Node) Proxy(next http.Handler) http.Handler {
	var mu sync.Mutex
	proxies := map[string]*httputil.ReverseProxy{}
	get := func(target string) (*httputil.ReverseProxy, error) {
		mu.Lock()
		defer mu.Unlock()
		if p := proxies[target]; p != nil {
			return p, nil
		}
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, errors.New("bad node url")
		}
		p := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.SetXForwarded()
				pr.Out.Header.Set(forwardedHeader, n.ID())
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				n.log.Warn("cluster: forwarding to the call's node failed", "path", r.URL.Path, "node_url", target, "err", err)
				writeJSONError(w, http.StatusBadGateway, "the node holding this call did not answer")
			},
		}
		proxies[target] = p
		return p, nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := callOfPath(r.URL.Path)
		if !ok || r.Header.Get(forwardedHeader) != "" || !hasCredentials(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		owner, target, status, err := n.ownerOf(ctx, id)
		cancel()
		if err != nil || owner == "" || owner == n.ID() {
			next.ServeHTTP(w, r) // not found, single-node rows, ours: handled here
			return
		}
		if status != "up" || target == "" {
			writeJSONError(w, http.StatusServiceUnavailable, "the node holding this call ("+owner+") is "+orUnknown(status))
			return
		}
		p, err := get(target)
		if err != nil {
			writeJSONError(w, http.StatusServiceUnavailable, "the node holding this call has no usable URL")
			return
		}
		p.ServeHTTP(w, r)
	})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// callOfPath picks the call id from /api/v1/calls/{id}/{action…}.
func callOfPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/api/v1/calls/")
	if !ok {
		return "", false
	}
	id, action, ok := strings.Cut(rest, "/")
	if !ok || id == "" || action == "" || id == "import" || id == "outbound" {
		return "", false
	}
	return id, true
}

func hasCredentials(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || r.URL.Query().Get("token") != "" || r.URL.Query().Get("sig") != ""
}

func (n *Node) ownerOf(ctx context.Context, callID string) (node, url, status string, err error) {
	// A call's record names its node; a callback waiting for an agent has
	// no record yet: its place on the waiting list names the node that
	// will dial it.
	err = n.pool.QueryRow(ctx, `SELECT o.node, coalesce(n.url, ''), coalesce(n.status, '') FROM
		(SELECT node, 1 AS k FROM calls WHERE id = $1 UNION ALL SELECT node, 2 FROM acd_queue WHERE call_id = $1 ORDER BY k LIMIT 1) o
		LEFT JOIN nodes n ON n.id = o.node`, callID).Scan(&node, &url, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", nil
	}
	return node, url, status, err
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":` + quote(msg) + `}` + "\n"))
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if r < 0x20 {
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
