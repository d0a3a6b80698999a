-- sscard schema v5 (SQLite): balances of organisation accounts (pool, clearing, fees, payer,
-- cash) kept in slots. Every settlement of a region moves money out of the region's pool, so a
-- single balance row would be a queue: each writer would hold its lock through its commit.
-- A writer adds its change to one slot of the account (on PostgreSQL, the slot of its
-- connection), so concurrent writers rarely meet. An account's balance is accounts.balance plus
-- the sum of its slots; holder accounts (e-wallet, medical, bank mirror) never have slots, as
-- decisions read their balance under a row lock. Same SQL on SQLite and PostgreSQL.

CREATE TABLE account_slots (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    slot BIGINT NOT NULL CHECK (slot BETWEEN 0 AND 63),
    balance BIGINT NOT NULL,
    PRIMARY KEY (account_id, slot)
);
