-- Same version as Postgres' 0014_callback_node: the node waiting for a
-- callback, always empty here (several nodes need Postgres).
ALTER TABLE callbacks ADD COLUMN node TEXT NOT NULL DEFAULT '';
