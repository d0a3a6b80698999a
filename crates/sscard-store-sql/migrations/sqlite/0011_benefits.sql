-- v11: benefits paid to the card's bank account (待遇发放). Payers (each with its ledger
-- account payer:<code>) and their staff (payer_staff), programs, batches received in
-- chunks and paid in chunks (done_through: every line up to it is decided, so a killed
-- process resumes after it), each line's outcome, the payments (at most one paid per payer ×
-- program × period × person: a partial unique index, so a payment the bank returns can be
-- marked returned and paid again), and the annual eligibility certifications.
-- A paid line's end_to_end_id is its stable key (ISO 20022 EndToEndId, <= 35 characters);
-- bank_code and account_no are the credited card's bank and account at payment time.
-- Same SQL on SQLite and PostgreSQL.
CREATE TABLE payers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    account_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE benefit_programs (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pension','unemployment','injury','subsidy','tax_refund','housing')),
    needs_certification BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE payer_staff (
    username TEXT PRIMARY KEY REFERENCES users(username),
    payer_code TEXT NOT NULL REFERENCES payers(code)
);
CREATE TABLE benefit_batches (
    batch_no BIGINT PRIMARY KEY,
    payer_code TEXT NOT NULL REFERENCES payers(code),
    batch_id TEXT NOT NULL,
    program_code TEXT NOT NULL REFERENCES benefit_programs(code),
    period TEXT NOT NULL,
    declared_lines BIGINT NOT NULL,
    declared_total_fen BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('receiving','processing','done')),
    received_lines BIGINT NOT NULL,
    done_through BIGINT NOT NULL,
    submitted_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT,
    UNIQUE (payer_code, batch_id)
);
CREATE INDEX benefit_batches_status ON benefit_batches (status, batch_no);
CREATE TABLE benefit_lines (
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
    end_to_end_id TEXT UNIQUE,
    transfer_id TEXT,
    decided_at_ms BIGINT,
    PRIMARY KEY (batch_no, seq),
    UNIQUE (batch_no, line_id)
);
CREATE INDEX benefit_lines_outcome ON benefit_lines (batch_no, outcome, seq);
CREATE TABLE benefit_payments (
    end_to_end_id TEXT PRIMARY KEY,
    payer_code TEXT NOT NULL,
    program_code TEXT NOT NULL,
    period TEXT NOT NULL,
    person_id TEXT NOT NULL,
    batch_no BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    card_no TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    account_no TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('paid','returned')),
    paid_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX benefit_payments_once ON benefit_payments (payer_code, program_code, period, person_id) WHERE status = 'paid';
CREATE INDEX benefit_payments_person ON benefit_payments (person_id, paid_at_ms);
CREATE TABLE benefit_certifications (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    channel TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX benefit_certifications_person ON benefit_certifications (person_id, at_ms);
