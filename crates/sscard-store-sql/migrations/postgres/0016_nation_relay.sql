-- v16: the nation's transport (docs/NATION.md). A relay's cursor: the last outbox (or
-- hub_commands) sequence JetStream acknowledged, moved only after the ack, so a killed relay
-- resends from here and never skips. The messages a consumer has applied, by message id,
-- recorded in the same transaction as the effect, so a redelivery changes nothing.
-- Same SQL on SQLite and PostgreSQL.
CREATE TABLE relay_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
CREATE TABLE consumed_messages (
    consumer TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer, msg_id)
);
