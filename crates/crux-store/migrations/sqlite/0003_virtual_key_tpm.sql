-- Tokens-per-minute limits on virtual keys (prompt plus completion tokens over a sliding minute).
ALTER TABLE virtual_keys ADD COLUMN tpm BIGINT;
