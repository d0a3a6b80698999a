-- v18: an application may wait for another deployment to stop the person's live card
-- (awaiting_remote_stop, DESIGN §7.1): the status CHECK gains that value.
-- SQLite cannot alter a CHECK, so the table is rebuilt. Foreign keys stay on (the migration
-- runs in a transaction, where the pragma cannot change), so the only table referencing
-- applications, application_steps, is rebuilt with it: the new steps table first references
-- the new applications table, both old tables are dropped with no reference left to break,
-- and the renames rewrite the reference to `applications`.
CREATE TABLE applications_v18 (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    region TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('first','upgrade','replacement','temporary')),
    channel TEXT NOT NULL CHECK (channel IN ('branch','branch_instant','kiosk','online','door_to_door','employer_batch','newborn','cross_province')),
    status TEXT NOT NULL CHECK (status IN ('submitted','awaiting_remote_stop','approved','rejected','in_production','ready_for_pickup','shipped','delivered','collected','withdrawn')),
    fee_fen BIGINT NOT NULL CHECK (fee_fen >= 0),
    bank_code TEXT NOT NULL REFERENCES banks(code),
    branch_code TEXT,
    mail_address TEXT,
    reason TEXT CHECK (reason IS NULL OR reason IN ('lost','damaged','change_of_bank')),
    card_no TEXT,
    replaces_card_no TEXT,
    submitted_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    key_version BIGINT
);
INSERT INTO applications_v18 (id, person_id, region, kind, channel, status, fee_fen, bank_code, branch_code,
    mail_address, reason, card_no, replaces_card_no, submitted_at_ms, updated_at_ms, key_version)
SELECT id, person_id, region, kind, channel, status, fee_fen, bank_code, branch_code,
    mail_address, reason, card_no, replaces_card_no, submitted_at_ms, updated_at_ms, key_version
FROM applications;
CREATE TABLE application_steps_v18 (
    application_id TEXT NOT NULL REFERENCES applications_v18(id),
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (application_id, seq)
);
INSERT INTO application_steps_v18 (application_id, seq, status, at_ms, actor)
SELECT application_id, seq, status, at_ms, actor FROM application_steps;
DROP TABLE application_steps;
DROP TABLE applications;
ALTER TABLE applications_v18 RENAME TO applications;
ALTER TABLE application_steps_v18 RENAME TO application_steps;
CREATE INDEX applications_person ON applications (person_id);
CREATE INDEX applications_status ON applications (status, id);
CREATE INDEX applications_bank ON applications (bank_code, id);
