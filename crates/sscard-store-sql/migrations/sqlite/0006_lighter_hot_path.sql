-- sscard schema v6 (SQLite): less work in every settlement and every use of a card.
--
-- Two secondary indexes that no query needs, each one more insert in every settlement and
-- every use: settlements_person served no read (a holder's settlements are among their uses
-- and transfers); card_uses_scenario served only the usage counts, which read the whole table
-- either way.
--
-- PostgreSQL's v6 also drops the foreign keys of the hot append-only tables (see there); SQLite
-- keeps them: it has one writer at a time, so they cost no lock contention here, and it cannot
-- drop a constraint without rebuilding the table.

DROP INDEX settlements_person;
DROP INDEX card_uses_scenario;
