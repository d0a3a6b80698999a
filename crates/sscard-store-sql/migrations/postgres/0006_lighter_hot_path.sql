-- sscard schema v6 (PostgreSQL): less work in every settlement and every use of a card.
--
-- Two secondary indexes that no query needs, each one more insert in every settlement and
-- every use: settlements_person served no read (a holder's settlements are among their uses
-- and transfers); card_uses_scenario served only the usage counts, which read the whole table
-- either way.
--
-- The foreign keys of the hot append-only tables. Each check takes a KEY SHARE lock on the
-- referenced row, and the referenced rows are the busiest of all: the region's pool and the
-- operator's clearing account (every settlement names them), the operator and the terminal.
-- Many transactions share-locking one row at once make PostgreSQL write a new multixact for
-- each; measured with `sscard bench onecard`, dropping these checks raised settlements from
-- about 1,000/s to about 1,400/s on the same machine. What they guarded stays guarded:
--   * transfers and balance slots are written only by the ledger, for accounts it has just
--     created or read in the same transaction, and `sscard ledger check` finds any transfer
--     whose account is missing (its credits and debits would not add up to the transfers);
--   * settlements, policy years and taps are written only by use cases that read the
--     terminal, its operator and the person in the same transaction, under the person's lock;
--   * nothing deletes accounts, operators, terminals or persons.
-- (DESIGN §7: such tables are the ones a distributed engine shards, where cross-shard foreign
-- keys are not available anyway.) SQLite keeps these keys: one writer, no contention.

DROP INDEX settlements_person;
DROP INDEX card_uses_scenario;
ALTER TABLE transfers DROP CONSTRAINT transfers_from_account_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_to_account_fkey;
ALTER TABLE account_slots DROP CONSTRAINT account_slots_account_id_fkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_operator_code_fkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_terminal_id_fkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_person_id_fkey;
ALTER TABLE medical_years DROP CONSTRAINT medical_years_person_id_fkey;
ALTER TABLE transit_taps DROP CONSTRAINT transit_taps_terminal_id_fkey;
