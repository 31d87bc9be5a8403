-- Digest secrets (HA1) for agents' SIP phones; passwords themselves stay bcrypt-only.
ALTER TABLE users ADD COLUMN sip_ha1_md5 TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sip_ha1_sha256 TEXT NOT NULL DEFAULT '';
