-- v17: the national hub (DESIGN §7.1, docs/NATION.md). Only a hub (`sscard serve --hub`)
-- writes these tables; a deployment's database keeps them empty.
--
-- The deployments registered at the hub; the secret is kept only as its SM3 hash.
CREATE TABLE deployments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Region prefixes, comma separated (3502,3505).
    regions TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);
-- One row per person, keyed by the national blind index of the SSN (no name, no SSN):
-- what each deployment holds of them (JSON: code -> {person_id, cards, application_id}).
-- Claims lock this row, so two claims for one person are decided one after the other.
CREATE TABLE national_index (
    person_index TEXT PRIMARY KEY,
    -- The deployment holding the person (NULL when nobody does), for reading by deployment.
    holder TEXT,
    holdings TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX national_index_holder ON national_index (holder);
-- A remote stop (异地停用): `requester` waits for `holder` to release the person.
CREATE TABLE remote_stops (
    id TEXT PRIMARY KEY,
    person_index TEXT NOT NULL,
    holder TEXT NOT NULL,
    requester TEXT NOT NULL,
    -- The requester's own person id and the application that waits.
    person_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'done')),
    created_at_ms BIGINT NOT NULL,
    done_at_ms BIGINT
);
CREATE INDEX remote_stops_waiting ON remote_stops (person_index, created_at_ms) WHERE status = 'waiting';
-- The hub's outbox of commands, in order; the command relay publishes them on
-- sscard.commands.<deployment> with Nats-Msg-Id = id.
CREATE TABLE hub_commands (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    deployment TEXT NOT NULL,
    body TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    -- The writing transaction: readers see only rows below the oldest transaction still
    -- running, so a late commit never slips behind the relay's cursor.
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
-- Every deployment's QR issuer keys; a key id is unique in the nation.
CREATE TABLE hub_keys (
    key_id BIGINT PRIMARY KEY,
    deployment TEXT NOT NULL,
    region TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL
);
-- The merged revocation feed: each deployment's e-card usable/unusable changes, in the
-- order the hub applied them.
CREATE TABLE hub_revocations (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment TEXT NOT NULL,
    ecard_id TEXT NOT NULL,
    usable INTEGER NOT NULL,
    at_ms BIGINT NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX hub_revocations_ecard ON hub_revocations (ecard_id, seq);
