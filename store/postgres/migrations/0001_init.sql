-- Times are timestamptz (stored at millisecond precision), NULL when unset.
-- Nested values are jsonb.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ
);
CREATE INDEX sessions_user_expires ON sessions (user_id, expires_at);

CREATE TABLE agents (
    username    TEXT PRIMARY KEY,
    skills      JSONB NOT NULL DEFAULT 'null',
    max_calls   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT '',
    state_since TIMESTAMPTZ
);

CREATE TABLE agent_state_log (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    state    TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       TIMESTAMPTZ
);
CREATE INDEX agent_state_log_username_at ON agent_state_log (username, at DESC NULLS LAST, id DESC);

CREATE TABLE queues (
    name  TEXT PRIMARY KEY,
    skill TEXT NOT NULL DEFAULT ''
);

CREATE TABLE calls (
    id             TEXT PRIMARY KEY,
    from_uri       TEXT NOT NULL DEFAULT '',
    to_uri         TEXT NOT NULL DEFAULT '',
    started_at     TIMESTAMPTZ,
    answered_at    TIMESTAMPTZ,
    ended_at       TIMESTAMPTZ,
    intent         TEXT NOT NULL DEFAULT '',
    queue          TEXT NOT NULL DEFAULT '',
    agent          TEXT NOT NULL DEFAULT '',
    recording_path TEXT NOT NULL DEFAULT '',
    disposition    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started_at ON calls (started_at DESC NULLS LAST, id DESC);

CREATE TABLE transcript_segments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker    TEXT NOT NULL,
    start_ms   BIGINT NOT NULL,
    end_ms     BIGINT NOT NULL,
    text       TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX transcript_segments_call ON transcript_segments (call_id, start_ms, id);

CREATE TABLE tickets (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL DEFAULT '',
    category   TEXT NOT NULL DEFAULT '',
    priority   TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    entities   JSONB NOT NULL DEFAULT 'null',
    sentiment  TEXT NOT NULL DEFAULT '',
    tags       JSONB NOT NULL DEFAULT 'null',
    status     TEXT NOT NULL DEFAULT '',
    customer   JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ
);
CREATE INDEX tickets_call ON tickets (call_id, created_at, id);

CREATE TABLE qa_evaluations (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL DEFAULT '',
    scorecard  TEXT NOT NULL DEFAULT '',
    score      INTEGER NOT NULL DEFAULT 0,
    max_score  INTEGER NOT NULL DEFAULT 0,
    items      JSONB NOT NULL DEFAULT 'null',
    created_at TIMESTAMPTZ
);
CREATE INDEX qa_evaluations_call ON qa_evaluations (call_id, created_at, id);
