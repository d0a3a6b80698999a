-- v22: QR issuer key ids unique in the nation (docs/NATION.md, the national trust list).
-- The hub numbers its deployments in the order they were registered; deployment N signs
-- only with key ids N*1000000+1 .. (N+1)*1000000 (ids 1..1000000 stay for a deployment on
-- its own), so two deployments never make the same id. Only a hub writes these tables.
ALTER TABLE deployments ADD COLUMN ordinal BIGINT;
UPDATE deployments SET ordinal = (
    SELECT COUNT(*) FROM deployments d
    WHERE d.created_at_ms < deployments.created_at_ms
       OR (d.created_at_ms = deployments.created_at_ms AND d.code <= deployments.code)
);
CREATE UNIQUE INDEX deployments_ordinal ON deployments (ordinal);
-- Keys published before ranges existed (each deployment numbered from 1) leave the trust
-- list: the deployments publish in-range keys when they next start.
DELETE FROM hub_keys WHERE NOT EXISTS (
    SELECT 1 FROM deployments d
    WHERE d.code = hub_keys.deployment
      AND hub_keys.key_id BETWEEN d.ordinal * 1000000 + 1 AND (d.ordinal + 1) * 1000000
);
