-- v20: cross-province services (docs/NATION.md). The hub calls a deployment's
-- POST /api/v1/hub-inbound presenting that deployment's own secret, so besides the hash it
-- keeps the secret sealed (SM4-GCM under a data key of the hub's master key, bound to the
-- deployment's code). Only a hub writes this table.
CREATE TABLE hub_deployment_secrets (
    code TEXT PRIMARY KEY REFERENCES deployments (code),
    sealed_secret TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
