-- The spans a call's recording was paused for (card details read out),
-- as JSON [{start_ms, end_ms, by, resumed_by}]; NULL when never paused.
ALTER TABLE calls ADD COLUMN recording_pauses jsonb;
