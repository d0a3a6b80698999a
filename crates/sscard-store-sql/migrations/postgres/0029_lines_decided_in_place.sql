-- v29: deciding a benefit line rewrites its row and nothing else that a paid line does not
-- need. Before, each of a million lines also wrote an entry in two more indexes when it was
-- decided: `benefit_lines_outcome` (every line, keyed by its outcome) and the unique index of
-- the line's end_to_end_id (the payment's primary key already holds it, and it is made from
-- the batch number and the line's seq, the line's own primary key). Now:
-- - the refused lines are indexed by outcome (`benefit_lines_refused`), so listing them and
--   counting them by reason stays an index read, and the paid ones by their seq alone
--   (`benefit_lines_paid`, appended to in seq order as chunks are decided), which the bank
--   files page through: the primary key with the outcome as a filter made PostgreSQL's
--   generic plan, under statistics taken while the lines were staged, scan the whole table
--   for each page (0.4 s a page against 2 ms at a million lines, EXPLAIN ANALYZE);
-- - the paid lines and fen of a batch are counted on the batch as each chunk is decided, so a
--   batch's summary reads one row and the refused lines, not every line of the batch (over a
--   second at a million lines);
-- - end_to_end_id keeps its column (read back as it was) without a unique index of its own.
ALTER TABLE benefit_batches ADD COLUMN paid_lines BIGINT NOT NULL DEFAULT 0;
ALTER TABLE benefit_batches ADD COLUMN paid_fen BIGINT NOT NULL DEFAULT 0;
UPDATE benefit_batches b SET paid_lines = c.n, paid_fen = c.fen
FROM (SELECT batch_no, COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen
      FROM benefit_lines WHERE outcome = 'paid' GROUP BY batch_no) c
WHERE c.batch_no = b.batch_no;
ALTER TABLE benefit_lines DROP CONSTRAINT benefit_lines_end_to_end_id_key;
DROP INDEX benefit_lines_outcome;
CREATE INDEX benefit_lines_refused ON benefit_lines (batch_no, outcome, seq) WHERE outcome <> 'paid';
CREATE INDEX benefit_lines_paid ON benefit_lines (batch_no, seq) WHERE outcome = 'paid';
