-- sscard schema v1 for PostgreSQL: the card office.
-- Portable types: money BIGINT fen, times BIGINT unix ms, dates TEXT YYYY-MM-DD, flags BIGINT 0/1.
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);

CREATE TABLE banks (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    bin TEXT NOT NULL
);
CREATE TABLE branches (
    bank_code TEXT NOT NULL REFERENCES banks(code),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    has_printer BIGINT NOT NULL CHECK (has_printer IN (0, 1)),
    PRIMARY KEY (bank_code, code)
);

CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    ssn TEXT NOT NULL UNIQUE,
    doc_type TEXT NOT NULL CHECK (doc_type IN ('resident_id','residence_permit','foreign_permanent_id','passport','hk_macau_travel_permit','taiwan_travel_permit','foreign_work_permit')),
    doc_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male','female')),
    birth_date TEXT NOT NULL,
    region TEXT NOT NULL,
    guardian_id TEXT REFERENCES persons(id),
    relationship_proof TEXT,
    pension_recorded BIGINT NOT NULL CHECK (pension_recorded IN (0, 1)),
    created_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX persons_document ON persons (doc_type, doc_number);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    region TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('first','upgrade','replacement','temporary')),
    channel TEXT NOT NULL CHECK (channel IN ('branch','branch_instant','kiosk','online','door_to_door','employer_batch','newborn','cross_province')),
    status TEXT NOT NULL CHECK (status IN ('submitted','approved','rejected','in_production','ready_for_pickup','shipped','delivered','collected','withdrawn')),
    fee_fen BIGINT NOT NULL CHECK (fee_fen >= 0),
    bank_code TEXT NOT NULL REFERENCES banks(code),
    branch_code TEXT,
    mail_address TEXT,
    reason TEXT CHECK (reason IS NULL OR reason IN ('lost','damaged','change_of_bank')),
    card_no TEXT,
    replaces_card_no TEXT,
    submitted_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX applications_person ON applications (person_id);
CREATE INDEX applications_status ON applications (status, id);
CREATE INDEX applications_bank ON applications (bank_code, id);

CREATE TABLE application_steps (
    application_id TEXT NOT NULL REFERENCES applications(id),
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (application_id, seq)
);

CREATE TABLE cards (
    card_no TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    region TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('produced','issued','active','suspended','lost','replaced','stopped','dormant','cancelled')),
    generation BIGINT NOT NULL CHECK (generation IN (1, 2, 3)),
    temporary BIGINT NOT NULL CHECK (temporary IN (0, 1)),
    bank_code TEXT NOT NULL,
    pan TEXT,
    card_id_code TEXT,
    channel TEXT,
    application_id TEXT,
    issued_on TEXT,
    expires_on TEXT NOT NULL,
    pin_hash TEXT,
    suspended_at_ms BIGINT,
    status_changed_at_ms BIGINT NOT NULL,
    produced_at_ms BIGINT NOT NULL,
    cancel_reason TEXT,
    destroyed BIGINT NOT NULL CHECK (destroyed IN (0, 1))
);
CREATE INDEX cards_person ON cards (person_id);
CREATE INDEX cards_status ON cards (status, status_changed_at_ms);
-- Backstop for the rule decided in sscard-domain: one live card per person.
CREATE UNIQUE INDEX cards_one_live_per_person ON cards (person_id) WHERE status IN ('active', 'suspended');

CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    region TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- The writing transaction: readers of the outbox only see events below the oldest
    -- transaction still running, so a late commit never slips behind a reader's cursor.
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE TABLE audit_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    chain_pos BIGINT UNIQUE,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX audit_unsealed ON audit_log (seq) WHERE chain_pos IS NULL;
CREATE INDEX audit_entity ON audit_log (entity, entity_id);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY CHECK (id = 1), chain_pos BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, chain_pos, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin','clerk','teller','holder','terminal','payer')),
    person_id TEXT REFERENCES persons(id),
    bank_code TEXT REFERENCES banks(code),
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
