-- Per-leg audio quality (loss, jitter, round-trip time, estimated MOS) as JSON.
ALTER TABLE calls ADD COLUMN quality TEXT;
