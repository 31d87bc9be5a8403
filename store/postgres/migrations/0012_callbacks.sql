-- Callbacks a caller asked for, waiting for an agent: kept so that a
-- restart re-arms them in the caller's place in line (waiting_since and
-- the score's inputs). Deleted once an agent's call to the number is
-- placed, or when expired.
CREATE TABLE callbacks (
    id              TEXT PRIMARY KEY,
    call_id         TEXT NOT NULL DEFAULT '',
    number          TEXT NOT NULL,
    queue           TEXT NOT NULL,
    intent          TEXT NOT NULL DEFAULT '',
    priority        INTEGER NOT NULL DEFAULT 1,
    vip             INTEGER NOT NULL DEFAULT 0,
    value           INTEGER NOT NULL DEFAULT 0,
    sentiment       DOUBLE PRECISION NOT NULL DEFAULT 0,
    preferred_agent TEXT NOT NULL DEFAULT '',
    waiting_since   TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ
);
CREATE INDEX callbacks_waiting ON callbacks (waiting_since, id);
