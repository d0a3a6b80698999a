-- sscard schema v2 for SQLite: the electronic card (DESIGN §3.4, §4, §5).
-- One e-card per person mirroring the current card; ids are 16 random bytes as 32 hex characters.
CREATE TABLE ecards (
    id TEXT PRIMARY KEY CHECK (length(id) = 32),
    person_id TEXT NOT NULL UNIQUE REFERENCES persons(id),
    region TEXT NOT NULL,
    card_no TEXT NOT NULL REFERENCES cards(card_no),
    status TEXT NOT NULL CHECK (status IN ('active','stopped')),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX ecards_status ON ecards (status, id);

-- Channel sign-ins (the holder signs the e-card into an app) and family authorizations (亲情服务).
CREATE TABLE ecard_authorizations (
    id TEXT PRIMARY KEY,
    ecard_id TEXT NOT NULL REFERENCES ecards(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL CHECK (kind IN ('channel','family')),
    channel TEXT,
    grantee_person_id TEXT REFERENCES persons(id),
    status TEXT NOT NULL CHECK (status IN ('active','revoked')),
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    CHECK ((kind = 'channel' AND channel IS NOT NULL) OR (kind = 'family' AND grantee_person_id IS NOT NULL))
);
CREATE INDEX ecard_authorizations_person ON ecard_authorizations (person_id, created_at_ms);
CREATE INDEX ecard_authorizations_grantee ON ecard_authorizations (grantee_person_id) WHERE grantee_person_id IS NOT NULL;

-- QR issuer keys: the private key is SM4-GCM sealed under a key derived from the master key (hex).
CREATE TABLE issuer_keys (
    key_id BIGINT PRIMARY KEY CHECK (key_id > 0 AND key_id <= 4294967295),
    public_key_pem TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    not_before_ms BIGINT NOT NULL,
    not_after_ms BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CHECK (not_before_ms <= not_after_ms)
);

-- The revocation feed reads e-card events only; QR login finds staff accounts by person.
CREATE INDEX events_entity ON events (entity, seq);
CREATE INDEX users_person ON users (person_id);
