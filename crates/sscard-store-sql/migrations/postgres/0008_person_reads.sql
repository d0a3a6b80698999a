-- v8: who saw a person's unmasked data. Every time staff see a person's full SSN and document
-- number (desk lookup, console, API read), one row: who, with what role and bank, when, what.
-- The holder lists them beside the uses of their card. Same SQL on SQLite and PostgreSQL.
CREATE TABLE person_reads (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    bank_code TEXT,
    what TEXT NOT NULL
);
CREATE INDEX person_reads_person ON person_reads (person_id, at_ms);
