-- Privacy: retention and erasure. The sweeper walks calls that still have
-- a recording or a transcript (partial indexes keep that cheap as the
-- purged ones pile up); transcript_purged_at is when retention or erasure
-- deleted the call's transcript.
ALTER TABLE calls ADD COLUMN transcript_purged_at INTEGER;
CREATE INDEX calls_recording_kept ON calls (started_at, id) WHERE recording_path <> '';
CREATE INDEX calls_transcript_kept ON calls (started_at, id) WHERE transcript_purged_at IS NULL;
