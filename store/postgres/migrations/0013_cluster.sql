-- Several contactd nodes on one database (package cluster, deploy/cluster.md).
--
-- nodes: each node's identity and heartbeat; a node whose heartbeat is
-- older than the dead-after time is marked dead by the dispatcher, which
-- then ends that node's live calls ("node lost").
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL DEFAULT '',
    sip          TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'up', -- up, left (clean stop), dead
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The node that took the call (and holds its media). A node's connections
-- carry the session setting contactd.node, so rows it inserts are tagged
-- without the store knowing; a single node leaves it empty. Existing rows
-- get '' (the default is set after the column is added).
ALTER TABLE calls ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ALTER COLUMN node SET DEFAULT coalesce(current_setting('contactd.node', true), '');
CREATE INDEX calls_live_by_node ON calls (node) WHERE ended_at IS NULL;

-- Cross-node ACD state. The elected dispatcher runs the router; these rows
-- are what it is rebuilt from and what makes an offer durable. The unique
-- indexes are the no-double-offer rule in the database itself: a call is
-- offered to at most one agent (primary key, offered_to), an agent holds at
-- most one offer (acd_agents_offering, acd_queue_offered_to).
CREATE TABLE acd_agents (
    username  TEXT PRIMARY KEY,
    skills    JSONB NOT NULL DEFAULT '{}',
    max_calls INTEGER NOT NULL DEFAULT 1,
    state     TEXT NOT NULL DEFAULT 'offline',
    reason    TEXT NOT NULL DEFAULT '',
    since     TIMESTAMPTZ NOT NULL DEFAULT now(),
    node      TEXT NOT NULL DEFAULT '',
    calls     INTEGER NOT NULL DEFAULT 0,
    offering  TEXT
);
CREATE UNIQUE INDEX acd_agents_offering ON acd_agents (offering) WHERE offering IS NOT NULL;

CREATE TABLE acd_queue (
    call_id     TEXT PRIMARY KEY,
    node        TEXT NOT NULL,
    queue       TEXT NOT NULL,
    contact     JSONB NOT NULL,
    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    offered_to  TEXT,
    offered_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX acd_queue_offered_to ON acd_queue (offered_to) WHERE offered_to IS NOT NULL;
CREATE INDEX acd_queue_node ON acd_queue (node);
CREATE INDEX acd_queue_wait ON acd_queue (queue, enqueued_at);

-- Every offer the dispatcher committed and how it ended, ordered by
-- acd_offer_seq: each number is drawn while the call's acd_queue row is
-- locked, so for one call the numbers follow the real order, and two
-- intervals [offered_seq, ended_seq) of one call never overlap. Operators
-- read it as the offer history; deploy/cluster-test.sh checks it. Rows
-- older than a day are pruned by the dispatcher.
CREATE SEQUENCE acd_offer_seq;
CREATE TABLE acd_offer_log (
    id          BIGSERIAL PRIMARY KEY,
    call_id     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    dispatcher  TEXT NOT NULL,
    offered_seq BIGINT NOT NULL,
    offered_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    ended_seq   BIGINT,
    ended_at    TIMESTAMPTZ,
    outcome     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX acd_offer_log_open ON acd_offer_log (call_id, agent) WHERE ended_seq IS NULL;
CREATE INDEX acd_offer_log_at ON acd_offer_log (offered_at);

-- Agents' desk phones registered on each node (the registrar is in
-- memory): the node that owns a call rings a phone registered on another
-- node by its contact, through the SIP front.
CREATE TABLE acd_phones (
    username   TEXT NOT NULL,
    node       TEXT NOT NULL,
    contact    TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    transport  TEXT NOT NULL DEFAULT 'udp',
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (username, node)
);
