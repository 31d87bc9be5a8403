-- IVR analytics: one row per caller visit of a flow node, and each call's
-- IVR outcome (contained, transferred, abandoned, ended).
CREATE TABLE ivr_visits (
    id         INTEGER PRIMARY KEY,
    call_id    TEXT NOT NULL,
    flow       TEXT NOT NULL DEFAULT '',
    node       TEXT NOT NULL,
    kind       TEXT NOT NULL DEFAULT '',
    entered_at INTEGER,
    left_at    INTEGER,
    exit_to    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ivr_visits_entered ON ivr_visits (entered_at);
CREATE INDEX ivr_visits_call ON ivr_visits (call_id);
ALTER TABLE calls ADD COLUMN ivr_outcome TEXT NOT NULL DEFAULT '';
