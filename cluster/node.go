package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is one node's identity and timing.
type Config struct {
	// NodeID names this node (CONTACTD_NODE_ID); unique in the cluster and
	// stable across restarts of the same node.
	NodeID string
	// URL is how the other nodes reach this node's HTTP (CONTACTD_NODE_URL),
	// e.g. http://10.0.0.11:8080.
	URL string
	// SIP is this node's SIP address, for the operator's eyes.
	SIP string
	// Heartbeat is how often the node says it is alive (default 1 s).
	Heartbeat time.Duration
	// DeadAfter: a node whose last heartbeat is older is dead (default 5 s).
	DeadAfter time.Duration
	// Lease is how long the node keeps serving without renewing its
	// heartbeat; then it fences itself (Fence) until a renewal succeeds.
	// Default DeadAfter less one Heartbeat: a node cut off from the
	// database stops taking calls and dispatching before the others can
	// declare it dead and end its calls.
	Lease time.Duration
	Log   *slog.Logger
}

var nodeIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func (c *Config) fill() error {
	if !nodeIDRe.MatchString(c.NodeID) {
		return fmt.Errorf("cluster: node id %q: want 1–64 letters, digits, '.', '_', ':' or '-'", c.NodeID)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("cluster: node url %q: want http(s)://host:port", c.URL)
		}
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = time.Second
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = 5 * time.Second
	}
	if c.DeadAfter < 2*c.Heartbeat {
		return fmt.Errorf("cluster: dead-after %s must be at least two heartbeats (%s)", c.DeadAfter, c.Heartbeat)
	}
	if c.Lease <= 0 {
		c.Lease = c.DeadAfter - c.Heartbeat
	}
	if c.Lease < c.Heartbeat || c.Lease > c.DeadAfter {
		return fmt.Errorf("cluster: lease %s must be between one heartbeat (%s) and dead-after (%s)", c.Lease, c.Heartbeat, c.DeadAfter)
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// DefaultNodeID is the host name and the HTTP port: stable for a node and
// distinct for several nodes on one host.
func DefaultNodeID(httpAddr string) string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "node"
	}
	_, port, err := splitPort(httpAddr)
	if err != nil || port == "" {
		return h
	}
	return h + ":" + port
}

func splitPort(addr string) (string, string, error) {
	u, err := url.Parse("//" + addr)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}

// DatabaseURL returns dbURL with this node's id as the session setting
// contactd.node, so the calls the store inserts through it are tagged with
// the node (the calls.node column defaults to that setting).
func DatabaseURL(dbURL, nodeID string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("cluster: several nodes need a postgres:// database URL")
	}
	q := u.Query()
	q.Set("contactd.node", nodeID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Node is this process as a member of the cluster: its row in nodes, its
// heartbeat and the lease the heartbeat renews.
type Node struct {
	cfg    Config
	pool   *pgxpool.Pool
	dbURL  string
	log    *slog.Logger
	origin time.Time // monotonic base of renewed

	stop chan struct{}
	done chan struct{}
	once sync.Once

	// renewed is when (since origin) the last heartbeat that the database
	// took was sent: the lease runs from there.
	renewed      atomic.Int64
	declaredDead atomic.Bool
	// epoch is this run's nodes.started_at (heartbeat goroutine only, and
	// Leave after it stopped): a heartbeat renews only its own run's row,
	// so another process that joined under the same id is never mistaken
	// for this one.
	epoch    time.Time
	replaced atomic.Bool                 // another process joined as this node id
	idle     atomic.Pointer[func() bool] // RejoinWhenIdle
}

// Join opens a small pool on dbURL, registers the node (up, heartbeat now)
// and starts its heartbeat. A node id that is already up with a fresh
// heartbeat is refused: two processes with one id would end each other's
// calls.
func Join(ctx context.Context, dbURL string, cfg Config) (*Node, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, errors.New("cluster: invalid database URL")
	}
	if pc.MaxConns < 4 {
		pc.MaxConns = 4
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		// As store/postgres: the pool connects apart from its caller's
		// context, so a server that accepts and never answers would hold
		// pool slots, and the heartbeat, long after it is back.
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{cfg: cfg, pool: pool, dbURL: dbURL, log: cfg.Log.With("node", cfg.NodeID), origin: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	sent := n.since()
	// A live twin: up, heartbeat fresher than dead-after.
	var twin bool
	err = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND status = 'up'
		AND heartbeat_at > now() - make_interval(secs => $2))`, cfg.NodeID, cfg.DeadAfter.Seconds()).Scan(&twin)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("cluster: read nodes: %w", err)
	}
	if twin {
		pool.Close()
		return nil, fmt.Errorf("cluster: node id %q is already up (heartbeat within %s): give each node its own CONTACTD_NODE_ID", cfg.NodeID, cfg.DeadAfter)
	}
	var dropped int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO nodes (id, url, sip, status, started_at, heartbeat_at) VALUES ($1, $2, $3, 'up', now(), now())
			ON CONFLICT (id) DO UPDATE SET url = $2, sip = $3, status = 'up', started_at = now(), heartbeat_at = now()
			RETURNING started_at`,
			cfg.NodeID, cfg.URL, cfg.SIP).Scan(&n.epoch)
		if err != nil {
			return err
		}
		dropped, err = releaseOwn(ctx, tx, cfg.NodeID)
		return err
	})
	if dropped > 0 {
		n.log.Warn("cluster: calls the previous run of this node left on the waiting list were dropped", "calls", dropped)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("cluster: register node: %w", err)
	}
	n.renewed.Store(int64(sent))
	go n.heartbeat()
	n.log.Info("cluster: node up", "url", cfg.URL, "heartbeat", cfg.Heartbeat, "dead_after", cfg.DeadAfter)
	return n, nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Pool is the node's connection pool (for the ACD).
func (n *Node) Pool() *pgxpool.Pool { return n.pool }

func (n *Node) since() time.Duration { return time.Since(n.origin) }

// RejoinWhenIdle lets a node the others declared dead rejoin without a
// restart once idle reports that it holds nothing the others took over:
// no call in progress (they were ended as node lost, and their agents
// released) and no callback or queued caller waiting in memory (they were
// dropped or adopted). It rejoins as Join does, under a new epoch, and
// gives up what the database still lists as its own (releaseOwn). Without
// it (nil) such a node stays fenced until restarted. idle is called from
// the heartbeat; it must not block.
func (n *Node) RejoinWhenIdle(idle func() bool) {
	if idle == nil {
		n.idle.Store(nil)
		return
	}
	n.idle.Store(&idle)
}

// Fence says why this node must not take new work now, or "" when it
// holds its lease. A node that could not renew its heartbeat within the
// lease (cut off from the database, not dead) is fenced: it refuses new
// calls, reports not ready, and does not dispatch, because the others may
// soon declare it dead and end its calls. It recovers on its own once a
// heartbeat gets through. A node the others already declared dead stays
// fenced until it is idle (RejoinWhenIdle) or restarted; one whose id
// another process has joined under stays fenced.
func (n *Node) Fence() string {
	if n.replaced.Load() {
		return "fenced: another process joined the cluster as this node id; stop this one"
	}
	if n.declaredDead.Load() {
		if n.idle.Load() != nil {
			return "fenced: the other nodes declared this node dead; it rejoins once its calls in progress are over"
		}
		return "fenced: the other nodes declared this node dead; restart it"
	}
	if age := n.since() - time.Duration(n.renewed.Load()); age > n.cfg.Lease {
		return fmt.Sprintf("fenced: cluster lease lost (no heartbeat renewed for %s)", age.Round(100*time.Millisecond))
	}
	return ""
}

// heartbeat renews the lease every Heartbeat on a connection of its own
// (a busy pool must not look like a lost database).
func (n *Node) heartbeat() {
	defer close(n.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	failing, fenced := false, false
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		sent := n.since()
		err := n.beat(&conn)
		if err != nil && conn != nil {
			conn.Close(context.Background())
			conn = nil
		}
		if err == nil {
			n.renewed.Store(int64(sent))
		}
		if err != nil && !failing {
			n.log.Warn("cluster: heartbeat failed", "err", err)
		} else if err == nil && failing {
			n.log.Info("cluster: heartbeat back")
		}
		failing = err != nil
		why := n.Fence()
		if why != "" && !fenced {
			n.log.Error("cluster: this node fenced itself: it refuses new calls and does not dispatch until its heartbeat gets through", "why", why)
		} else if why == "" && fenced {
			n.log.Warn("cluster: lease renewed; this node serves again")
		}
		fenced = why != ""
	}
}

var errDeclaredDead = errors.New("declared dead by the other nodes")

// beat writes one heartbeat, connecting first when needed.
func (n *Node) beat(conn **pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.Heartbeat*2)
	defer cancel()
	if *conn == nil {
		c, err := pgx.Connect(ctx, n.dbURL)
		if err != nil {
			return err
		}
		*conn = c
	}
	// status stays dead once others declared it so: a node they gave up
	// on must not come back silently with its calls already ended (it
	// may rejoin, below, once it holds none).
	t, err := (*conn).Exec(ctx, `UPDATE nodes SET heartbeat_at = now() WHERE id = $1 AND status = 'up' AND started_at = $2`,
		n.cfg.NodeID, n.epoch)
	if err != nil {
		return err
	}
	if t.RowsAffected() == 1 {
		return nil
	}
	var status string
	var epoch time.Time
	err = (*conn).QueryRow(ctx, `SELECT status, started_at FROM nodes WHERE id = $1`, n.cfg.NodeID).Scan(&status, &epoch)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if err == nil && !epoch.Equal(n.epoch) {
		if !n.replaced.Swap(true) {
			n.log.Error("cluster: another process joined the cluster as this node id; this one stays fenced: stop it", "their_start", epoch)
		}
		return errReplaced
	}
	if !n.declaredDead.Swap(true) {
		n.log.Error("cluster: the other nodes declared this node dead (no heartbeat for too long) and ended its calls; it rejoins once idle, or restart it")
	}
	if idle := n.idle.Load(); idle == nil || !(*idle)() {
		return errDeclaredDead
	}
	return n.rejoin(ctx, *conn)
}

var errReplaced = errors.New("another process joined as this node id")

// rejoin brings a node declared dead back, idle: up under a new epoch
// (only if no other process joined as this id meanwhile), giving up the
// queued calls and callbacks the database still lists as its own, in one
// transaction, as Join does.
func (n *Node) rejoin(ctx context.Context, conn *pgx.Conn) error {
	var epoch time.Time
	var dropped int
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE nodes SET status = 'up', started_at = now(), heartbeat_at = now()
			WHERE id = $1 AND status <> 'up' AND started_at = $2 RETURNING started_at`, n.cfg.NodeID, n.epoch).Scan(&epoch)
		if errors.Is(err, pgx.ErrNoRows) {
			return errDeclaredDead // changed meanwhile: the next beat looks again
		}
		if err != nil {
			return err
		}
		dropped, err = releaseOwn(ctx, tx, n.cfg.NodeID)
		return err
	})
	if err != nil {
		return err
	}
	n.epoch = epoch
	n.declaredDead.Store(false)
	n.log.Warn("cluster: this node, declared dead, rejoined the cluster: it had no calls in progress", "dropped_queued", dropped)
	return nil
}

// Leave stops the heartbeat and marks the node left (a clean stop: its
// calls were finished by the graceful shutdown). It closes the pool.
func (n *Node) Leave() {
	n.once.Do(func() {
		close(n.stop)
		<-n.done
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if _, err := n.pool.Exec(ctx, `UPDATE nodes SET status = 'left' WHERE id = $1 AND status = 'up' AND started_at = $2`,
			n.cfg.NodeID, n.epoch); err != nil {
			n.log.Warn("cluster: mark node left", "err", err)
		}
		n.pool.Close()
	})
}

// NodeInfo is one row of nodes.
type NodeInfo struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	SIP       string    `json:"sip"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"heartbeat_at"`
}

// Nodes lists the cluster's nodes.
func (n *Node) Nodes(ctx context.Context) ([]NodeInfo, error) {
	rows, err := n.pool.Query(ctx, `SELECT id, url, sip, status, started_at, heartbeat_at FROM nodes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NodeInfo
	for rows.Next() {
		var i NodeInfo
		if err := rows.Scan(&i.ID, &i.URL, &i.SIP, &i.Status, &i.StartedAt, &i.Heartbeat); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// DispositionNodeLost is how a call whose node died is closed by a
// surviving node.
const DispositionNodeLost = "node lost: the node holding the call's media stopped"

// LostCall is a call ended because its node died.
type LostCall struct {
	ID, Node, Agent string
}

// reapDead marks nodes whose heartbeat is older than DeadAfter dead and
// ends their live calls, in one transaction per node. It returns the
// dead nodes and the calls it ended.
func (n *Node) reapDead(ctx context.Context) ([]string, []LostCall, error) {
	rows, err := n.pool.Query(ctx, `UPDATE nodes SET status = 'dead' WHERE status = 'up' AND id <> $1
		AND heartbeat_at < now() - make_interval(secs => $2) RETURNING id`, n.cfg.NodeID, n.cfg.DeadAfter.Seconds())
	if err != nil {
		return nil, nil, err
	}
	var dead []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		dead = append(dead, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var lost []LostCall
	for _, id := range dead {
		ls, err := n.endCallsOf(ctx, id)
		if err != nil {
			return dead, lost, err
		}
		n.log.Warn("cluster: node dead; its calls ended", "dead_node", id, "calls", len(ls))
		lost = append(lost, ls...)
	}
	return dead, lost, nil
}

// endCallsOf closes the live calls of a dead node.
func (n *Node) endCallsOf(ctx context.Context, node string) ([]LostCall, error) {
	rows, err := n.pool.Query(ctx, `UPDATE calls SET ended_at = now(), disposition = $2
		WHERE node = $1 AND ended_at IS NULL RETURNING id, agent`, node, DispositionNodeLost)
	if err != nil {
		return nil, fmt.Errorf("cluster: end calls of %s: %w", node, err)
	}
	defer rows.Close()
	var out []LostCall
	for rows.Next() {
		l := LostCall{Node: node}
		if err := rows.Scan(&l.ID, &l.Agent); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
