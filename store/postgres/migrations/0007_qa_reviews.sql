-- QA reviews: the effective score after overrides, the agent's
-- acknowledgement or dispute, override rows and calibration scores.
ALTER TABLE qa_evaluations ADD COLUMN auto_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE qa_evaluations ADD COLUMN method TEXT NOT NULL DEFAULT '';
ALTER TABLE qa_evaluations ADD COLUMN ack_status TEXT NOT NULL DEFAULT '';
ALTER TABLE qa_evaluations ADD COLUMN ack_by TEXT NOT NULL DEFAULT '';
ALTER TABLE qa_evaluations ADD COLUMN ack_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE qa_evaluations ADD COLUMN ack_at TIMESTAMPTZ;
CREATE INDEX qa_evaluations_created ON qa_evaluations (created_at DESC, id DESC);

CREATE TABLE qa_reviews (
    id            TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES qa_evaluations (id) ON DELETE CASCADE,
    reviewer      TEXT NOT NULL,
    item          TEXT NOT NULL,
    old_passed    INTEGER NOT NULL,
    new_passed    INTEGER NOT NULL,
    old_score     INTEGER NOT NULL,
    new_score     INTEGER NOT NULL,
    comment       TEXT NOT NULL,
    created_at    TIMESTAMPTZ
);
CREATE INDEX qa_reviews_evaluation ON qa_reviews (evaluation_id, created_at, id);

CREATE TABLE qa_calibrations (
    evaluation_id TEXT NOT NULL REFERENCES qa_evaluations (id) ON DELETE CASCADE,
    reviewer      TEXT NOT NULL,
    items         TEXT NOT NULL,
    comment       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ,
    PRIMARY KEY (evaluation_id, reviewer)
);
