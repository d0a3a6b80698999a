-- v14: benefit lines and payments hold personal data sealed at rest like persons (0009):
-- benefit_lines.ssn, .name, .account_no and benefit_payments.account_no are `v{n}.{base64}`
-- SM4-GCM values bound to table, column and row. key_version is the data key version of the
-- row; NULL marks a row written before 0014, still in clear, which the store seals at open.
-- Same SQL on SQLite and PostgreSQL.
ALTER TABLE benefit_lines ADD COLUMN key_version BIGINT;
ALTER TABLE benefit_payments ADD COLUMN key_version BIGINT;
-- The conversion at every open looks for clear rows: these partial indexes hold only those
-- (none once converted), so a database of millions of lines opens without a scan.
CREATE INDEX benefit_lines_clear ON benefit_lines (batch_no, seq) WHERE key_version IS NULL;
CREATE INDEX benefit_payments_clear ON benefit_payments (end_to_end_id) WHERE key_version IS NULL;
