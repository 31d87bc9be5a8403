-- Same version as Postgres' 0011_cluster: the calls.node column, always
-- empty here (several nodes need Postgres; the cluster tables live there).
ALTER TABLE calls ADD COLUMN node TEXT NOT NULL DEFAULT '';
