-- tickets_fts keeps ticket_id UNINDEXED, so replacing a ticket's search
-- document by its ID scanned the whole index: every new ticket cost more
-- the more tickets there were. This table finds a ticket's FTS row.
CREATE TABLE tickets_fts_rows (
    ticket_id TEXT PRIMARY KEY,
    fts_rowid INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tickets_fts_rows (ticket_id, fts_rowid)
    SELECT ticket_id, max(rowid) FROM tickets_fts GROUP BY ticket_id;
-- A document left twice (none should be) is dropped once, here.
DELETE FROM tickets_fts WHERE rowid NOT IN (SELECT fts_rowid FROM tickets_fts_rows);
