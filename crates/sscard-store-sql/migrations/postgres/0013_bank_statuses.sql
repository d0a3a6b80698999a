-- v13: the banks' answers about benefit credits (pain.002 or its CSV). One row per paid line
-- the bank answered about, by its EndToEndId: credited, or returned with the bank's reason and
-- the reversal transfer that took the money back to the payer (the payment is then marked
-- returned in benefit_payments, so a later batch may pay the person again). A line's first final
-- answer stays; the same answer again changes nothing. Same SQL on SQLite and PostgreSQL.
CREATE TABLE benefit_bank_statuses (
    end_to_end_id TEXT PRIMARY KEY,
    batch_no BIGINT NOT NULL,
    bank_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('credited','returned')),
    status_code TEXT NOT NULL,
    reason TEXT,
    reversal_transfer_id TEXT,
    report_msg_id TEXT,
    reported_by TEXT NOT NULL,
    reported_at_ms BIGINT NOT NULL
);
CREATE INDEX benefit_bank_statuses_batch ON benefit_bank_statuses (batch_no, bank_code);
