-- The node that waits for an agent to take a callback (package cluster):
-- tagged like calls.node, through the connection's contactd.node setting.
-- When that node dies, leaves, or restarts, the ACD dispatcher hands its
-- callbacks to a live node, which dials them. A single node leaves it ''.
ALTER TABLE callbacks ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE callbacks ALTER COLUMN node SET DEFAULT coalesce(current_setting('contactd.node', true), '');
CREATE INDEX callbacks_node ON callbacks (node);
