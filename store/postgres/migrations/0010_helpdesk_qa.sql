-- Helpdesk and QA: the SLA breach watcher, durable webhook dead letters,
-- word timings in transcripts, and teams.

-- When each SLA target's breach was flagged (escalated and announced),
-- once; the partial indexes keep the watcher's scan to open clocks.
ALTER TABLE tickets ADD COLUMN first_response_breached_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN resolution_breached_at TIMESTAMPTZ;
CREATE INDEX tickets_first_response_watch ON tickets (first_response_due)
    WHERE first_response_at IS NULL AND first_response_breached_at IS NULL AND first_response_due IS NOT NULL;
CREATE INDEX tickets_resolution_watch ON tickets (resolution_due)
    WHERE solved_at IS NULL AND resolution_breached_at IS NULL AND resolution_due IS NOT NULL;

-- Webhook deliveries given up on after their retries, kept until an admin
-- replays them. body is the payload exactly as it was signed.
CREATE TABLE webhook_dead_letters (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    TEXT NOT NULL DEFAULT '',
    event_type  TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL,
    ticket_id   TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ,
    replayed_at TIMESTAMPTZ,
    replayed_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_dead_letters_pending ON webhook_dead_letters (id) WHERE replayed_at IS NULL;

-- A segment's words with their times, when the recogniser gives them.
ALTER TABLE transcript_segments ADD COLUMN words JSONB NOT NULL DEFAULT 'null';

-- Teams: agents and their supervisors.
ALTER TABLE users ADD COLUMN team TEXT NOT NULL DEFAULT '';
CREATE INDEX users_team ON users (team, username);
