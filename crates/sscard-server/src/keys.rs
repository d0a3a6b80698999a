//! QR issuer keys: the master key, sealing private keys at rest, the key ring the
//! server signs and verifies with, and rotation.
//!
//! The 32-byte master key comes from `SSCARD_MASTER_KEY` (64 hex characters) or a key file:
//! the one given, or for SQLite `<database path>.master.key`, created on first start with mode
//! 0600. PostgreSQL deployments must give one of the two. Private keys are stored only as
//! SM4-GCM ciphertext under `derive_key(master, "issuer-keys")` and are never logged.

use sscard_app::Ctx;
use sscard_domain::access::Actor;
use sscard_domain::nation::trust::KeyIdRange;
use sscard_gm::offline::{DEFAULT_CLOCK_SKEW_S, OfflineVerifier, PublishedKey};
use sscard_gm::sm2::SigningKey;
use sscard_gm::sm4::Sm4Key;
use sscard_gm::{Zeroizing, kdf};
use sscard_store::{IssuerKeyRow, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Environment variable holding the master key as 64 hex characters.
pub const MASTER_KEY_ENV: &str = "SSCARD_MASTER_KEY";
/// Label of the SM4 key that seals issuer private keys.
pub const ISSUER_KEYS_LABEL: &str = "issuer-keys";
/// How long a new issuer key is valid.
pub const KEY_VALIDITY_MS: i64 = 365 * 86_400_000;

/// Why the keys could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{MASTER_KEY_ENV} must be 64 hex characters (32 bytes)")]
    BadEnvKey,
    #[error("the master key file {0} is not 64 hex characters")]
    BadKeyFile(PathBuf),
    #[error("cannot read or create the master key file {path}: {source}")]
    KeyFileIo { path: PathBuf, source: std::io::Error },
    #[error(
        "no master key: set {MASTER_KEY_ENV} (64 hex characters) or pass --master-key-file PATH; \
         a key file is only created automatically beside a SQLite database"
    )]
    NoMasterKey,
    #[error("issuer key {0} cannot be opened with this master key (wrong SSCARD_MASTER_KEY or key file?)")]
    CannotOpen(u32),
    #[error("issuer key {0} is stored with an invalid public key")]
    BadPublicKey(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    Env,
    File(PathBuf),
    /// A random key held only in memory (tests).
    Ephemeral,
}

/// The master key, wiped from memory on drop.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    pub source: MasterKeySource,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("source", &self.source).finish_non_exhaustive()
    }
}

fn parse_hex32(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let text = text.trim();
    let mut out = Zeroizing::new([0u8; 32]);
    if text.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The default key file of a `sqlite://PATH` URL: `PATH.master.key`; None for other URLs.
pub fn default_key_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(format!("{path}.master.key")))
}

impl MasterKey {
    /// A random key kept only in memory.
    pub fn ephemeral() -> Self {
        MasterKey { bytes: Zeroizing::new(sscard_gm::rand::random_bytes()), source: MasterKeySource::Ephemeral }
    }

    /// A key given as 64 hex characters (as in `SSCARD_MASTER_KEY`).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = parse_hex32(text).ok_or(KeyError::BadEnvKey)?;
        Ok(MasterKey { bytes, source: MasterKeySource::Env })
    }

    /// `SSCARD_MASTER_KEY`, else `key_file`, else the SQLite database's key file (created on
    /// first use, mode 0600); PostgreSQL without either is refused with a clear message.
    pub fn load(database_url: &str, key_file: Option<&Path>) -> Result<Self, KeyError> {
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            let bytes = parse_hex32(&text).ok_or(KeyError::BadEnvKey)?;
            return Ok(MasterKey { bytes, source: MasterKeySource::Env });
        }
        let path = match key_file {
            Some(p) => p.to_path_buf(),
            None => default_key_file(database_url).ok_or(KeyError::NoMasterKey)?,
        };
        Self::from_file(&path)
    }

    /// Reads the key file, creating it with a fresh random key (mode 0600) if it is missing.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::KeyFileIo { path: path.to_path_buf(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = parse_hex32(&text).ok_or_else(|| KeyError::BadKeyFile(path.to_path_buf()))?;
                Ok(MasterKey { bytes, source: MasterKeySource::File(path.to_path_buf()) })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(sscard_gm::rand::random_bytes());
                let text = Zeroizing::new(hex_lower(bytes.as_ref()) + "\n");
                write_private(path, text.as_bytes()).map_err(io)?;
                tracing::info!(path = %path.display(), "created a new master key file (mode 0600)");
                Ok(MasterKey { bytes, source: MasterKeySource::File(path.to_path_buf()) })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The keys that seal personal data at rest and its blind indexes (given to the store).
    pub fn data_keys(&self) -> sscard_gm::vault::DataKeys {
        sscard_gm::vault::DataKeys::new(&self.bytes)
    }

    /// The key of the national blind index a hub hands to its deployments
    /// (`derive_key(master, "national-index")`).
    pub fn national_index_key(&self) -> sscard_app::hub::IndexKey {
        sscard_app::hub::IndexKey::derive(&self.bytes)
    }

    fn seal_key(&self) -> Sm4Key {
        let k = Zeroizing::new(kdf::derive_key(&self.bytes, ISSUER_KEYS_LABEL));
        Sm4Key::new(&k)
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `path` exclusively with owner-only permissions and writes `data`.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// One key the server can sign with.
struct Signer {
    key_id: u32,
    key: SigningKey,
    not_before_s: i64,
    not_after_s: i64,
}

/// The loaded keys: the published list, a verifier holding them (parsed once), the signers.
pub struct KeyRing {
    pub published: Vec<PublishedKey>,
    pub verifier: OfflineVerifier,
    signers: Vec<Signer>,
    fingerprint: Vec<(u32, i64, i64)>,
    /// In the nation: the key ids this deployment signs with (older keys only verify).
    range: Option<KeyIdRange>,
}

impl KeyRing {
    fn empty() -> Self {
        KeyRing {
            published: Vec::new(),
            verifier: OfflineVerifier::new(&[], [], DEFAULT_CLOCK_SKEW_S)
                .unwrap_or_else(|_| unreachable!("an empty key set always loads")),
            signers: Vec::new(),
            fingerprint: Vec::new(),
            range: None,
        }
    }

    /// The newest key valid at `now_s`, to sign with; in the nation only one of this
    /// deployment's key ids (a key made on its own keeps verifying its QR codes, locally).
    pub fn signer_at(&self, now_s: i64) -> Option<(u32, &SigningKey)> {
        self.signers
            .iter()
            .filter(|s| self.range.is_none_or(|r| r.contains(s.key_id)))
            .filter(|s| s.not_before_s <= now_s && now_s <= s.not_after_s)
            .max_by_key(|s| s.key_id)
            .map(|s| (s.key_id, &s.key))
    }

    /// The published entry of a key.
    pub fn key(&self, key_id: u32) -> Option<&PublishedKey> {
        self.published.iter().find(|k| k.key_id == key_id)
    }

    /// The keys the national trust list takes from this deployment: those of its range.
    pub fn in_range(&self) -> Vec<PublishedKey> {
        self.published.iter().filter(|k| self.range.is_none_or(|r| r.contains(k.key_id))).cloned().collect()
    }
}

/// Holds the seal key and the current [`KeyRing`]; reloads from the store when keys change.
pub struct KeyManager {
    seal: Sm4Key,
    pub source: MasterKeySource,
    ring: RwLock<Arc<KeyRing>>,
    /// Serialises reloads and key generation.
    reload: tokio::sync::Mutex<i64>,
    /// The key ids the hub gave this deployment (`None`: on its own, or the hub).
    range: RwLock<Option<KeyIdRange>>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager").field("source", &self.source).finish_non_exhaustive()
    }
}

fn seconds(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl KeyManager {
    pub fn new(master: &MasterKey) -> Self {
        KeyManager {
            seal: master.seal_key(),
            source: master.source.clone(),
            ring: RwLock::new(Arc::new(KeyRing::empty())),
            reload: tokio::sync::Mutex::new(i64::MIN),
            range: RwLock::new(None),
        }
    }

    /// Signs from now on only with key ids of `range` (a deployment of the nation, from the
    /// hub); the next [`KeyManager::ensure`] makes a key in it when none is valid.
    pub fn set_key_ids(&self, range: Option<KeyIdRange>) {
        *self.range.write().unwrap_or_else(|p| p.into_inner()) = range;
    }

    /// The key ids this deployment signs with, when the hub gave it some.
    pub fn key_ids(&self) -> Option<KeyIdRange> {
        *self.range.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A manager with a random in-memory master key (tests and throw-away databases).
    pub fn ephemeral() -> Self {
        Self::new(&MasterKey::ephemeral())
    }

    /// The keys loaded now.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reloads the keys from the store (cheap when nothing changed).
    pub async fn reload(&self, store: &dyn Store) -> Result<Arc<KeyRing>, KeyError> {
        let _guard = self.reload.lock().await;
        self.reload_locked(store).await
    }

    /// Reloads at most once per `min_interval_ms` (for a verifier meeting an unknown key id).
    pub async fn reload_throttled(
        &self,
        store: &dyn Store,
        now_ms: i64,
        min_interval_ms: i64,
    ) -> Result<Arc<KeyRing>, KeyError> {
        let mut last = self.reload.lock().await;
        if now_ms.saturating_sub(*last) < min_interval_ms {
            return Ok(self.ring());
        }
        *last = now_ms;
        self.reload_locked(store).await
    }

    async fn reload_locked(&self, store: &dyn Store) -> Result<Arc<KeyRing>, KeyError> {
        let rows = sscard_app::ecard::issuer_keys(store).await?;
        let fingerprint: Vec<(u32, i64, i64)> =
            rows.iter().map(|r| (r.key_id, r.not_before_ms, r.not_after_ms)).collect();
        let current = self.ring();
        let range = self.key_ids();
        if current.fingerprint == fingerprint && current.range == range && !rows.is_empty() {
            return Ok(current);
        }
        let mut ring = self.build(&rows, fingerprint)?;
        ring.range = range;
        let ring = Arc::new(ring);
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring.clone();
        Ok(ring)
    }

    fn build(&self, rows: &[IssuerKeyRow], fingerprint: Vec<(u32, i64, i64)>) -> Result<KeyRing, KeyError> {
        let mut published = Vec::with_capacity(rows.len());
        let mut signers = Vec::with_capacity(rows.len());
        for r in rows {
            let sealed = hex::decode(&r.private_key_sealed).map_err(|_| KeyError::CannotOpen(r.key_id))?;
            let der = Zeroizing::new(
                self.seal.open(&sealed, r.public_key_pem.as_bytes()).map_err(|_| KeyError::CannotOpen(r.key_id))?,
            );
            let key = SigningKey::from_pkcs8_der(&der).map_err(|_| KeyError::CannotOpen(r.key_id))?;
            if key.verifying_key().to_spki_pem().trim() != r.public_key_pem.trim() {
                return Err(KeyError::BadPublicKey(r.key_id));
            }
            let (not_before_s, not_after_s) = (seconds(r.not_before_ms), seconds(r.not_after_ms));
            published.push(PublishedKey {
                key_id: r.key_id,
                public_key_pem: r.public_key_pem.clone(),
                not_before: not_before_s,
                not_after: not_after_s,
            });
            signers.push(Signer { key_id: r.key_id, key, not_before_s, not_after_s });
        }
        let verifier = OfflineVerifier::new(&published, [], DEFAULT_CLOCK_SKEW_S).map_err(|e| match e {
            sscard_gm::offline::KeySetError::InvalidPublicKey { key_id }
            | sscard_gm::offline::KeySetError::DuplicateKeyId { key_id }
            | sscard_gm::offline::KeySetError::EmptyValidity { key_id } => KeyError::BadPublicKey(key_id),
        })?;
        Ok(KeyRing { published, verifier, signers, fingerprint, range: None })
    }

    /// Makes sure a key valid at `now_ms` exists (generating one, valid a year, if not) and
    /// returns the ring. Called at start and whenever a QR code finds no signer.
    pub async fn ensure(&self, store: &dyn Store, now_ms: i64) -> Result<Arc<KeyRing>, KeyError> {
        let _guard = self.reload.lock().await;
        let ring = self.reload_locked(store).await?;
        if ring.signer_at(seconds(now_ms)).is_some() {
            return Ok(ring);
        }
        let ctx = Ctx::new(Actor::system("keys"), now_ms, Default::default());
        match self.add_key(store, &ctx, None).await {
            // Another server instance made one at the same moment: use theirs.
            Ok(_) | Err(KeyError::Store(StoreError::Duplicate { .. })) => {}
            Err(e) => return Err(e),
        }
        self.reload_locked(store).await
    }

    /// Adds a new signing key valid from now for a year. With `retire_after_s`, every older
    /// key stops being valid that many seconds from now (it keeps verifying until then).
    pub async fn rotate(
        &self,
        store: &dyn Store,
        ctx: &Ctx,
        retire_after_s: Option<i64>,
    ) -> Result<IssuerKeyRow, KeyError> {
        let _guard = self.reload.lock().await;
        let row = self.add_key(store, ctx, retire_after_s).await?;
        self.reload_locked(store).await?;
        Ok(row)
    }

    async fn add_key(
        &self,
        store: &dyn Store,
        ctx: &Ctx,
        retire_after_s: Option<i64>,
    ) -> Result<IssuerKeyRow, KeyError> {
        let key = SigningKey::generate();
        let public_key_pem = key.verifying_key().to_spki_pem();
        let der = key.to_pkcs8_der();
        let sealed = self.seal.seal(&der, public_key_pem.as_bytes());
        let row = IssuerKeyRow {
            key_id: 0,
            public_key_pem,
            private_key_sealed: hex_lower(&sealed),
            not_before_ms: ctx.now_ms,
            not_after_ms: ctx.now_ms.saturating_add(KEY_VALIDITY_MS),
            created_at_ms: ctx.now_ms,
        };
        let retire_at = retire_after_s.map(|s| ctx.now_ms.saturating_add(s.max(0).saturating_mul(1000)));
        let row = sscard_app::ecard::add_issuer_key(store, ctx, row, retire_at, self.key_ids()).await?;
        tracing::info!(key_id = row.key_id, "new QR issuer key");
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_path_and_hex() {
        assert_eq!(default_key_file("sqlite://data/x.db?mode=rwc"), Some(PathBuf::from("data/x.db.master.key")));
        assert_eq!(default_key_file("postgres://u@h/db"), None);
        assert!(parse_hex32(&"ab".repeat(32)).is_some());
        assert!(parse_hex32(&"ab".repeat(31)).is_none());
        assert!(parse_hex32(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir =
            std::env::temp_dir().join(format!("sscard-keys-{}", hex_lower(&sscard_gm::rand::random_bytes::<8>())));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.master.key");
        let a = MasterKey::from_file(&path).unwrap();
        let b = MasterKey::from_file(&path).unwrap();
        assert_eq!(*a.bytes, *b.bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
