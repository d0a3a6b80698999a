-- sscard schema v6 (SQLite): two secondary indexes that no query needs, each one more insert
-- (and one more lock) in every settlement and every use of a card. settlements_person served no
-- read (a holder's settlements are among their uses and transfers); card_uses_scenario served
-- only the usage counts, which read the whole table either way. Same SQL on SQLite and PostgreSQL.

DROP INDEX settlements_person;
DROP INDEX card_uses_scenario;
