-- Helpdesk: richer tickets, customers for repeat contacts, SLA clocks,
-- the audit trail, notes and full-text search (tsvector + GIN).
ALTER TABLE tickets
    ADD COLUMN sub_category TEXT NOT NULL DEFAULT '',
    ADD COLUMN sentiment_start TEXT NOT NULL DEFAULT '',
    ADD COLUMN sentiment_end TEXT NOT NULL DEFAULT '',
    ADD COLUMN outcome TEXT NOT NULL DEFAULT '',
    ADD COLUMN follow_ups JSONB NOT NULL DEFAULT 'null',
    ADD COLUMN assignee TEXT NOT NULL DEFAULT '',
    ADD COLUMN team TEXT NOT NULL DEFAULT '',
    ADD COLUMN customer_id TEXT NOT NULL DEFAULT '',
    ADD COLUMN customer_phone TEXT NOT NULL DEFAULT '',
    ADD COLUMN first_response_due TIMESTAMPTZ,
    ADD COLUMN resolution_due TIMESTAMPTZ,
    ADD COLUMN first_response_at TIMESTAMPTZ,
    ADD COLUMN solved_at TIMESTAMPTZ,
    ADD COLUMN search TSVECTOR;
UPDATE tickets SET customer_phone = COALESCE(customer->>'phone', '');
UPDATE tickets SET customer_id = 'tel:' || customer_phone WHERE customer_phone <> '';
UPDATE tickets SET search = to_tsvector('english', subject || ' ' || summary || ' ' || category || ' ' || customer_phone);

CREATE INDEX tickets_created ON tickets (created_at DESC NULLS LAST, id DESC);
CREATE INDEX tickets_customer ON tickets (customer_id, category, created_at DESC NULLS LAST);
CREATE INDEX tickets_customer_phone ON tickets (customer_phone, created_at DESC NULLS LAST);
CREATE INDEX tickets_status ON tickets (status, created_at DESC NULLS LAST);
CREATE INDEX tickets_assignee ON tickets (assignee, created_at DESC NULLS LAST);
CREATE INDEX tickets_search ON tickets USING GIN (search);

CREATE TABLE ticket_events (
    id        BIGSERIAL PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    at        TIMESTAMPTZ,
    actor     TEXT NOT NULL DEFAULT '',
    field     TEXT NOT NULL,
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
-- Calls linked to an existing ticket (repeat contacts) are "linked_call" events.
CREATE INDEX ticket_events_value ON ticket_events (field, new_value);

CREATE TABLE ticket_notes (
    id         BIGSERIAL PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    internal   BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ
);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id);
