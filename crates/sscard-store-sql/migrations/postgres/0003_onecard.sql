-- sscard schema v3 (PostgreSQL): one card for everything (DESIGN §3.5, §3.6). The same SQL runs on SQLite
-- and PostgreSQL. Money in i64 fen, times in unix milliseconds, statuses as CHECKed text.

-- Operators (hospital, pharmacy, transit company, library network, park) and their terminals.
CREATE TABLE operators (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hospital','pharmacy','transit','library','park','agency')),
    region TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- A terminal's secret is shown once; only its SM3 hash is kept.
CREATE TABLE terminals (
    id TEXT PRIMARY KEY,
    operator_code TEXT NOT NULL REFERENCES operators(code),
    scenario TEXT NOT NULL CHECK (scenario IN ('identity','medical','transit','library','park')),
    region TEXT NOT NULL,
    scope TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms BIGINT NOT NULL
);

-- Double-entry ledger: balance = credits - debits; the sum over all accounts is zero.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('ewallet','medical','bank','pool','fees','payer','clearing','cash')),
    owner TEXT NOT NULL,
    person_id TEXT,
    balance BIGINT NOT NULL DEFAULT 0,
    may_go_negative BIGINT NOT NULL CHECK (may_go_negative IN (0, 1)),
    created_at_ms BIGINT NOT NULL,
    CHECK (may_go_negative = 1 OR balance >= 0)
);
CREATE INDEX accounts_person ON accounts (person_id);

CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,
    from_account TEXT NOT NULL REFERENCES accounts(id),
    to_account TEXT NOT NULL REFERENCES accounts(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    kind TEXT NOT NULL,
    ref_id TEXT,
    at_ms BIGINT NOT NULL,
    CHECK (from_account <> to_account)
);
CREATE INDEX transfers_from ON transfers (from_account, at_ms);
CREATE INDEX transfers_to ON transfers (to_account, at_ms);

-- Medical insurance policies per insured region (absent: the built-in default).
CREATE TABLE medical_policies (
    region TEXT PRIMARY KEY,
    deductible_fen BIGINT NOT NULL CHECK (deductible_fen >= 0),
    ratio_local_bp BIGINT NOT NULL CHECK (ratio_local_bp BETWEEN 0 AND 10000),
    ratio_in_province_bp BIGINT NOT NULL CHECK (ratio_in_province_bp BETWEEN 0 AND 10000),
    ratio_cross_province_bp BIGINT NOT NULL CHECK (ratio_cross_province_bp BETWEEN 0 AND 10000),
    annual_cap_fen BIGINT NOT NULL CHECK (annual_cap_fen >= 0),
    updated_at_ms BIGINT NOT NULL
);

-- What a person's policy year has used (deductible met, pool paid).
CREATE TABLE medical_years (
    person_id TEXT NOT NULL REFERENCES persons(id),
    year BIGINT NOT NULL,
    deductible_used_fen BIGINT NOT NULL CHECK (deductible_used_fen >= 0),
    pool_paid_fen BIGINT NOT NULL CHECK (pool_paid_fen >= 0),
    PRIMARY KEY (person_id, year)
);

CREATE TABLE settlements (
    id TEXT PRIMARY KEY,
    operator_code TEXT NOT NULL REFERENCES operators(code),
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    bill_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    card_no TEXT NOT NULL,
    insured_region TEXT NOT NULL,
    locality TEXT NOT NULL CHECK (locality IN ('local','in_province','cross_province')),
    year BIGINT NOT NULL,
    bill_fen BIGINT NOT NULL CHECK (bill_fen > 0),
    pool_fen BIGINT NOT NULL CHECK (pool_fen >= 0),
    account_fen BIGINT NOT NULL CHECK (account_fen >= 0),
    self_pay_fen BIGINT NOT NULL CHECK (self_pay_fen >= 0),
    deductible_applied_fen BIGINT NOT NULL CHECK (deductible_applied_fen >= 0),
    ratio_bp BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    refunded_at_ms BIGINT,
    UNIQUE (operator_code, bill_id),
    CHECK (pool_fen + account_fen + self_pay_fen = bill_fen)
);
CREATE INDEX settlements_person ON settlements (person_id, at_ms);

-- Transit taps, online (seq NULL) and offline (each (terminal, seq) once, refused ones too).
CREATE TABLE transit_taps (
    id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    seq BIGINT,
    card_no TEXT,
    person_id TEXT,
    fare_fen BIGINT NOT NULL CHECK (fare_fen >= 0),
    at_ms BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied','refused')),
    reason TEXT,
    recorded_at_ms BIGINT NOT NULL,
    UNIQUE (terminal_id, seq)
);

-- Library network patrons (no deposit) and loans; an item is on loan at most once.
CREATE TABLE library_patrons (
    operator_code TEXT NOT NULL REFERENCES operators(code),
    person_id TEXT NOT NULL REFERENCES persons(id),
    registered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (operator_code, person_id)
);
CREATE TABLE loans (
    id TEXT PRIMARY KEY,
    operator_code TEXT NOT NULL REFERENCES operators(code),
    item_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    card_no TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    borrowed_at_ms BIGINT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    returned_at_ms BIGINT,
    returned_terminal_id TEXT
);
CREATE UNIQUE INDEX loans_open_item ON loans (operator_code, item_id) WHERE returned_at_ms IS NULL;
CREATE INDEX loans_person ON loans (person_id, returned_at_ms);
CREATE INDEX loans_due ON loans (operator_code, due_at_ms) WHERE returned_at_ms IS NULL;

-- Parks, their entries and annual passes (held by the person, bought with the card).
CREATE TABLE parks (
    code TEXT PRIMARY KEY,
    operator_code TEXT NOT NULL REFERENCES operators(code),
    name TEXT NOT NULL,
    price_fen BIGINT NOT NULL CHECK (price_fen >= 0),
    free_for_retirees BIGINT NOT NULL CHECK (free_for_retirees IN (0, 1)),
    accepts_annual_pass BIGINT NOT NULL CHECK (accepts_annual_pass IN (0, 1)),
    annual_pass_fen BIGINT CHECK (annual_pass_fen > 0)
);
CREATE TABLE park_passes (
    id TEXT PRIMARY KEY,
    park_code TEXT NOT NULL REFERENCES parks(code),
    person_id TEXT NOT NULL REFERENCES persons(id),
    card_no TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    price_fen BIGINT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX park_passes_person ON park_passes (person_id, park_code, end_ms);
CREATE TABLE park_entries (
    id TEXT PRIMARY KEY,
    park_code TEXT NOT NULL REFERENCES parks(code),
    terminal_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    card_no TEXT NOT NULL,
    admitted BIGINT NOT NULL CHECK (admitted IN (0, 1)),
    price_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);

-- Every use of a card at a terminal, refused ones included.
CREATE TABLE card_uses (
    id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    scenario TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    operator_code TEXT NOT NULL,
    person_id TEXT,
    card_no TEXT,
    presented TEXT NOT NULL CHECK (presented IN ('card','qr')),
    result TEXT NOT NULL CHECK (result IN ('ok','refused')),
    reason TEXT,
    region TEXT NOT NULL
);
CREATE INDEX card_uses_person ON card_uses (person_id, at_ms);
CREATE INDEX card_uses_scenario ON card_uses (scenario, presented);
