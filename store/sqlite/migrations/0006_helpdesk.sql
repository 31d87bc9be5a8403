-- Helpdesk: richer tickets, customers for repeat contacts, SLA clocks,
-- the audit trail, notes and full-text search (FTS5).
ALTER TABLE tickets ADD COLUMN sub_category TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sentiment_start TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sentiment_end TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN follow_ups TEXT NOT NULL DEFAULT 'null';
ALTER TABLE tickets ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN team TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN customer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN customer_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN first_response_due INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_due INTEGER;
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
ALTER TABLE tickets ADD COLUMN solved_at INTEGER;
UPDATE tickets SET customer_phone = COALESCE(json_extract(customer, '$.phone'), '');
UPDATE tickets SET customer_id = 'tel:' || customer_phone WHERE customer_phone <> '';

CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_customer ON tickets (customer_id, category, created_at DESC);
CREATE INDEX tickets_customer_phone ON tickets (customer_phone, created_at DESC);
CREATE INDEX tickets_status ON tickets (status, created_at DESC);
CREATE INDEX tickets_assignee ON tickets (assignee, created_at DESC);

CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    at        INTEGER,
    actor     TEXT NOT NULL DEFAULT '',
    field     TEXT NOT NULL,
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
-- Calls linked to an existing ticket (repeat contacts) are "linked_call" events.
CREATE INDEX ticket_events_value ON ticket_events (field, new_value);

CREATE TABLE ticket_notes (
    id         INTEGER PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER
);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id);

-- One row per ticket: its searchable text, kept by the store.
CREATE VIRTUAL TABLE tickets_fts USING fts5(ticket_id UNINDEXED, doc, tokenize = 'porter unicode61');
INSERT INTO tickets_fts (ticket_id, doc)
    SELECT id, subject || ' ' || summary || ' ' || category || ' ' || customer_phone FROM tickets;
