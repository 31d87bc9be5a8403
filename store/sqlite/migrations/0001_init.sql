-- Times are INTEGER Unix milliseconds, NULL when unset. JSON is TEXT.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT '',
    created_at    INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER,
    created_at INTEGER
);
CREATE INDEX sessions_user_expires ON sessions (user_id, expires_at);

CREATE TABLE agents (
    username    TEXT PRIMARY KEY,
    skills      TEXT NOT NULL DEFAULT 'null',
    max_calls   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT '',
    state_since INTEGER
);

CREATE TABLE agent_state_log (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    state    TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       INTEGER
);
CREATE INDEX agent_state_log_username_at ON agent_state_log (username, at DESC, id DESC);

CREATE TABLE queues (
    name  TEXT PRIMARY KEY,
    skill TEXT NOT NULL DEFAULT ''
);

CREATE TABLE calls (
    id             TEXT PRIMARY KEY,
    from_uri       TEXT NOT NULL DEFAULT '',
    to_uri         TEXT NOT NULL DEFAULT '',
    started_at     INTEGER,
    answered_at    INTEGER,
    ended_at       INTEGER,
    intent         TEXT NOT NULL DEFAULT '',
    queue          TEXT NOT NULL DEFAULT '',
    agent          TEXT NOT NULL DEFAULT '',
    recording_path TEXT NOT NULL DEFAULT '',
    disposition    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started_at ON calls (started_at DESC, id DESC);

CREATE TABLE transcript_segments (
    id         INTEGER PRIMARY KEY,
    call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker    TEXT NOT NULL,
    start_ms   INTEGER NOT NULL,
    end_ms     INTEGER NOT NULL,
    text       TEXT NOT NULL,
    confidence REAL NOT NULL DEFAULT 0
);
CREATE INDEX transcript_segments_call ON transcript_segments (call_id, start_ms, id);

CREATE TABLE tickets (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL DEFAULT '',
    category   TEXT NOT NULL DEFAULT '',
    priority   TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    entities   TEXT NOT NULL DEFAULT 'null',
    sentiment  TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT 'null',
    status     TEXT NOT NULL DEFAULT '',
    customer   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER,
    updated_at INTEGER
);
CREATE INDEX tickets_call ON tickets (call_id, created_at, id);

CREATE TABLE qa_evaluations (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL DEFAULT '',
    scorecard  TEXT NOT NULL DEFAULT '',
    score      INTEGER NOT NULL DEFAULT 0,
    max_score  INTEGER NOT NULL DEFAULT 0,
    items      TEXT NOT NULL DEFAULT 'null',
    created_at INTEGER
);
CREATE INDEX qa_evaluations_call ON qa_evaluations (call_id, created_at, id);
