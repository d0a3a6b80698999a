-- v21: cross-province medical settlement (docs/NATION.md, sscard_domain::nation::medical).
-- A deployment keeps each forwarded bill it took part in, as the origin (its hospital's bill of
-- another deployment's person) or as the decider (its person's bill at another deployment's
-- hospital): the body it was asked, what it answered, so the same bill again answers the first
-- result and another body under the same id is refused. The person is the decider's own.
CREATE TABLE nation_medical_bills (
    side TEXT NOT NULL CHECK (side IN ('origin','decider')),
    origin TEXT NOT NULL,
    hospital TEXT NOT NULL,
    bill_id TEXT NOT NULL,
    other TEXT NOT NULL,
    settlement_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    answer TEXT NOT NULL,
    person_id TEXT,
    at_ms BIGINT NOT NULL,
    refunded_at_ms BIGINT,
    refund_answer TEXT,
    PRIMARY KEY (side, origin, hospital, bill_id)
);
-- The hub's inter-deployment clearing ledger: one entry per bill and kind (settle, refund):
-- the payer deployment owes the payee amount_fen, on the hub's day. The body and answer make
-- the hub's replay of a repeated bill.
CREATE TABLE hub_clearing (
    origin TEXT NOT NULL,
    hospital TEXT NOT NULL,
    bill_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('settle','refund')),
    decider TEXT NOT NULL,
    body TEXT NOT NULL,
    answer TEXT NOT NULL,
    payer TEXT NOT NULL,
    payee TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    day TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (origin, hospital, bill_id, kind)
);
CREATE INDEX hub_clearing_day ON hub_clearing (day);
