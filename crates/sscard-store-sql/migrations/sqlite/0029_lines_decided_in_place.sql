-- v29: deciding a benefit line rewrites its row and nothing else that a paid line does not
-- need. Before, each of a million lines also moved an entry in two indexes when it was decided:
-- `benefit_lines_outcome` (every line, keyed by its outcome) and the unique index of the line's
-- end_to_end_id (the payment's primary key already holds it, and it is made from the batch
-- number and the line's seq, the line's own primary key). Now:
-- - the refused lines are indexed by outcome (`benefit_lines_refused`), so listing them and
--   counting them by reason stays an index read, and the paid ones by their seq alone
--   (`benefit_lines_paid`, appended to in seq order as chunks are decided), which the bank
--   files page through: the primary key with the outcome as a filter made PostgreSQL's
--   generic plan, under statistics taken while the lines were staged, scan the whole table
--   for each page (0.4 s a page against 2 ms at a million lines, EXPLAIN ANALYZE);
-- - the paid lines and fen of a batch are counted on the batch as each chunk is decided, so a
--   batch's summary reads one row and the refused lines, not every line of the batch;
-- - end_to_end_id keeps its column (read back as it was) without a unique index of its own.
-- SQLite cannot drop a column's UNIQUE constraint, so the table is copied into its new shape.
ALTER TABLE benefit_batches ADD COLUMN paid_lines BIGINT NOT NULL DEFAULT 0;
ALTER TABLE benefit_batches ADD COLUMN paid_fen BIGINT NOT NULL DEFAULT 0;
UPDATE benefit_batches SET
    paid_lines = (SELECT COUNT(*) FROM benefit_lines l
                  WHERE l.batch_no = benefit_batches.batch_no AND l.outcome = 'paid'),
    paid_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM benefit_lines l
                WHERE l.batch_no = benefit_batches.batch_no AND l.outcome = 'paid');
CREATE TABLE benefit_lines_v29 (
    batch_no BIGINT NOT NULL REFERENCES benefit_batches(batch_no),
    seq BIGINT NOT NULL,
    line_id TEXT NOT NULL,
    ssn TEXT NOT NULL,
    name TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    outcome TEXT CHECK (outcome IN ('paid','unknown_person','name_mismatch','no_financial_account','deceased','duplicate','certification_overdue')),
    person_id TEXT,
    card_no TEXT,
    bank_code TEXT,
    account_no TEXT,
    end_to_end_id TEXT,
    transfer_id TEXT,
    decided_at_ms BIGINT,
    key_version BIGINT,
    ssn_index TEXT,
    PRIMARY KEY (batch_no, seq),
    UNIQUE (batch_no, line_id)
);
INSERT INTO benefit_lines_v29 (batch_no, seq, line_id, ssn, name, amount_fen, outcome, person_id, card_no,
    bank_code, account_no, end_to_end_id, transfer_id, decided_at_ms, key_version, ssn_index)
SELECT batch_no, seq, line_id, ssn, name, amount_fen, outcome, person_id, card_no,
    bank_code, account_no, end_to_end_id, transfer_id, decided_at_ms, key_version, ssn_index
FROM benefit_lines;
DROP TABLE benefit_lines;
ALTER TABLE benefit_lines_v29 RENAME TO benefit_lines;
CREATE INDEX benefit_lines_clear ON benefit_lines (batch_no, seq) WHERE key_version IS NULL;
CREATE INDEX benefit_lines_refused ON benefit_lines (batch_no, outcome, seq) WHERE outcome <> 'paid';
CREATE INDEX benefit_lines_paid ON benefit_lines (batch_no, seq) WHERE outcome = 'paid';
