-- v9: personal data at rest (PostgreSQL). Names, SSNs, document numbers, relationship proofs,
-- mailing addresses, full PANs and the stored answers of repeat-safe requests are kept only
-- as SM4-GCM ciphertext `v{n}.{base64}` in the columns that held them (sealed and opened by
-- sscard-store-sql's `vault`); `key_version` names each row's data key version (NULL: a row
-- from before v9, still clear, which the store converts at open right after this migration).
-- Lookups and uniqueness go through keyed HMAC-SM3 blind indexes; the unique indexes on the
-- clear values go.
CREATE TABLE data_keys (
    version BIGINT PRIMARY KEY CHECK (version > 0),
    check_value TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

ALTER TABLE persons DROP CONSTRAINT persons_ssn_key;
ALTER TABLE persons ADD COLUMN key_version BIGINT;
ALTER TABLE persons ADD COLUMN ssn_index TEXT;
ALTER TABLE persons ADD COLUMN doc_index TEXT;
DROP INDEX persons_document;
CREATE UNIQUE INDEX persons_ssn_index ON persons (ssn_index);
-- One person per document (type and number); a lookup by number alone uses its first column.
CREATE UNIQUE INDEX persons_doc_index ON persons (doc_index, doc_type);

ALTER TABLE applications ADD COLUMN key_version BIGINT;

ALTER TABLE cards ADD COLUMN key_version BIGINT;
ALTER TABLE cards ADD COLUMN pan_index TEXT;
DROP INDEX cards_pan_unique;
CREATE UNIQUE INDEX cards_pan_index ON cards (pan_index);

ALTER TABLE idempotency ADD COLUMN key_version BIGINT;
