-- Caller history: past calls and tickets of one number, newest first.
CREATE INDEX calls_from ON calls (from_uri, started_at DESC NULLS LAST, id DESC);
