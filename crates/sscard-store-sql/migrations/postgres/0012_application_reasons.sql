-- v12: what staff said about an application, one row per kind: a fee waiver by the card office
-- (the card may then be handed over without the fee) and a rejection's reason (told to the
-- holder). Who and when are kept with the reason. Same SQL on SQLite and PostgreSQL.
CREATE TABLE application_reasons (
    application_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fee_waiver', 'rejection')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (application_id, kind)
);
