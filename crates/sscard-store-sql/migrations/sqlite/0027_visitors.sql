-- v27: visitors, holders of another deployment of the nation, at this deployment's one-card
-- terminals (docs/NATION.md). Their QR code is checked against the national trust list and
-- their status asked of the issuing deployment; this deployment has no person for them and
-- keeps none. A loan or a park entry of a visitor keeps the issuing deployment and the e-card
-- id in place of the person and the card (exactly one of the two pairs is set); a use of a
-- card keeps them beside the person it already may lack.
-- SQLite cannot drop a NOT NULL, so loans and park_entries are rebuilt. Nothing references
-- either table, and foreign keys stay on (the migration runs in a transaction).
CREATE TABLE loans_v27 (
    id TEXT PRIMARY KEY,
    operator_code TEXT NOT NULL REFERENCES operators(code),
    item_id TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    card_no TEXT,
    deployment TEXT,
    ecard_id TEXT,
    terminal_id TEXT NOT NULL,
    borrowed_at_ms BIGINT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    returned_at_ms BIGINT,
    returned_terminal_id TEXT,
    CHECK ((person_id IS NOT NULL AND card_no IS NOT NULL AND deployment IS NULL AND ecard_id IS NULL)
        OR (person_id IS NULL AND card_no IS NULL AND deployment IS NOT NULL AND ecard_id IS NOT NULL))
);
INSERT INTO loans_v27 (id, operator_code, item_id, person_id, card_no, terminal_id, borrowed_at_ms, due_at_ms,
    returned_at_ms, returned_terminal_id)
SELECT id, operator_code, item_id, person_id, card_no, terminal_id, borrowed_at_ms, due_at_ms,
    returned_at_ms, returned_terminal_id
FROM loans;
DROP TABLE loans;
ALTER TABLE loans_v27 RENAME TO loans;
CREATE UNIQUE INDEX loans_open_item ON loans (operator_code, item_id) WHERE returned_at_ms IS NULL;
CREATE INDEX loans_person ON loans (person_id, returned_at_ms);
CREATE INDEX loans_due ON loans (operator_code, due_at_ms) WHERE returned_at_ms IS NULL;
-- A visitor's open loans, counted at each loan.
CREATE INDEX loans_visitor ON loans (ecard_id, operator_code) WHERE ecard_id IS NOT NULL AND returned_at_ms IS NULL;

CREATE TABLE park_entries_v27 (
    id TEXT PRIMARY KEY,
    park_code TEXT NOT NULL REFERENCES parks(code),
    terminal_id TEXT NOT NULL,
    person_id TEXT,
    card_no TEXT,
    deployment TEXT,
    ecard_id TEXT,
    admitted BIGINT NOT NULL CHECK (admitted IN (0, 1)),
    price_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    CHECK ((person_id IS NOT NULL AND card_no IS NOT NULL AND deployment IS NULL AND ecard_id IS NULL)
        OR (person_id IS NULL AND card_no IS NULL AND deployment IS NOT NULL AND ecard_id IS NOT NULL))
);
INSERT INTO park_entries_v27 (id, park_code, terminal_id, person_id, card_no, admitted, price_fen, reason, at_ms)
SELECT id, park_code, terminal_id, person_id, card_no, admitted, price_fen, reason, at_ms
FROM park_entries;
DROP TABLE park_entries;
ALTER TABLE park_entries_v27 RENAME TO park_entries;

ALTER TABLE card_uses ADD COLUMN deployment TEXT;
ALTER TABLE card_uses ADD COLUMN ecard_id TEXT;
