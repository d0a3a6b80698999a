//! Personal data at rest: the data keys that seal names, ID numbers, addresses and PANs, and
//! the blind-index key that finds them again without decrypting.
//!
//! * Data key version `n` is `derive_key(master, "personal-data/v{n}")` (the SM3 KDF): a new
//!   version needs no new secret, only a new number, so rotation is online and every process
//!   holding the master key can read every version.
//! * Sealed text is `v{n}.{base64(nonce || SM4-GCM ciphertext || tag)}`: each value names the
//!   version it was sealed with. The caller passes associated data naming the table, column
//!   and row, so a ciphertext copied to another row or column does not open.
//! * The blind index is HMAC-SM3 under `derive_key(master, "blind-index")`, truncated to 16
//!   bytes (32 hex characters). It does not rotate: rotating it would rebuild every index at
//!   once, and it reveals only equality of values, which the unique indexes need anyway.
//!
//! Pure: no I/O. The store decides where the values go (see sscard-store-sql's `vault`).

use crate::Zeroizing;
use crate::kdf::derive_key;
use crate::sm3::HmacSm3Key;
use crate::sm4::Sm4Key;
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// KDF label of the blind-index key.
pub const BLIND_INDEX_LABEL: &str = "blind-index";
/// Bytes of HMAC-SM3 kept in a blind index.
pub const BLIND_INDEX_LEN: usize = 16;
/// The highest data key version accepted (a sealed value naming a higher one is corrupt).
pub const MAX_VERSION: u32 = 1_000_000;

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// Not of the form `v{n}.{base64}`.
    #[error("not a sealed value (v<version>.<base64>)")]
    Malformed,
    /// Wrong master key, moved between rows or columns, or modified.
    #[error("sealed value does not open with data key version {0} (wrong master key, or moved or modified)")]
    CannotOpen(u32),
    /// Opened, but the plaintext is not UTF-8.
    #[error("sealed value is not UTF-8 text")]
    NotText,
}

/// The data key ring and the blind-index key, derived from one master key. Cheap to clone.
#[derive(Clone)]
pub struct DataKeys {
    inner: Arc<Inner>,
}

struct Inner {
    master: Zeroizing<[u8; 32]>,
    blind: HmacSm3Key,
    /// Keys derived so far, by version (few: one per rotation).
    ring: RwLock<HashMap<u32, Sm4Key>>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKeys(..)")
    }
}

/// The KDF label of data key version `version`.
pub fn data_key_label(version: u32) -> String {
    format!("personal-data/v{version}")
}

impl DataKeys {
    /// The keys of this master key.
    pub fn new(master: &[u8; 32]) -> Self {
        let blind = Zeroizing::new(derive_key(master, BLIND_INDEX_LABEL));
        DataKeys {
            inner: Arc::new(Inner {
                master: Zeroizing::new(*master),
                blind: HmacSm3Key::new(blind.as_ref()),
                ring: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// Keys of a random master key held only in memory (tests, benchmarks, scratch databases).
    pub fn ephemeral() -> Self {
        let master: Zeroizing<[u8; 32]> = Zeroizing::new(crate::rand::random_bytes());
        Self::new(&master)
    }

    fn key(&self, version: u32) -> Sm4Key {
        if let Some(k) = self.inner.ring.read().unwrap_or_else(|p| p.into_inner()).get(&version) {
            return k.clone();
        }
        let raw = Zeroizing::new(derive_key(&self.inner.master, &data_key_label(version)));
        let key = Sm4Key::new(&raw);
        self.inner.ring.write().unwrap_or_else(|p| p.into_inner()).insert(version, key.clone());
        key
    }

    /// Seals `plaintext` under data key `version`, binding `aad`: `v{n}.{base64}`.
    pub fn seal(&self, version: u32, plaintext: &[u8], aad: &[u8]) -> String {
        let sealed = self.key(version).seal(plaintext, aad);
        let mut out = format!("v{version}.");
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(sealed, &mut out);
        out
    }

    /// Opens a value sealed by [`DataKeys::seal`] with the same `aad`: its version and plaintext.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<(u32, Zeroizing<Vec<u8>>), VaultError> {
        let version = version_of(sealed).ok_or(VaultError::Malformed)?;
        let body = sealed.split_once('.').map(|(_, b)| b).ok_or(VaultError::Malformed)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(body).map_err(|_| VaultError::Malformed)?;
        let plain = self.key(version).open(&bytes, aad).map_err(|_| VaultError::CannotOpen(version))?;
        Ok((version, Zeroizing::new(plain)))
    }

    /// Opens a sealed UTF-8 text.
    pub fn open_text(&self, sealed: &str, aad: &[u8]) -> Result<String, VaultError> {
        let (_, plain) = self.open(sealed, aad)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::NotText)
    }

    /// The blind index of `value` for `purpose` (e.g. "ssn"): 32 hex characters. Equal inputs
    /// give equal indexes; without the master key they cannot be computed or reversed.
    pub fn blind_index(&self, purpose: &str, value: &str) -> String {
        let mac = self.inner.blind.mac(&[purpose.as_bytes(), b"\0", value.as_bytes()]);
        // Hex by hand: formatting each byte cost more than the HMAC.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(2 * BLIND_INDEX_LEN);
        for b in &mac[..BLIND_INDEX_LEN] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}

/// The key version a sealed value names, if it is of the form `v{n}.…` with 1 <= n <= [`MAX_VERSION`].
pub fn version_of(sealed: &str) -> Option<u32> {
    let (head, _) = sealed.split_once('.')?;
    let digits = head.strip_prefix('v')?;
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = digits.parse().ok()?;
    (1..=MAX_VERSION).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_refusals() {
        let keys = DataKeys::new(&[9u8; 32]);
        let sealed = keys.seal(3, "林一".as_bytes(), b"persons.name/p1");
        assert!(sealed.starts_with("v3."), "{sealed}");
        assert!(!sealed.contains("林一"));
        assert_eq!(keys.open_text(&sealed, b"persons.name/p1").unwrap(), "林一");
        assert_eq!(keys.open_text(&sealed, b"persons.name/p2"), Err(VaultError::CannotOpen(3)));
        let other = DataKeys::new(&[8u8; 32]);
        assert_eq!(other.open_text(&sealed, b"persons.name/p1"), Err(VaultError::CannotOpen(3)));
        let relabelled = sealed.replacen("v3.", "v4.", 1);
        assert_eq!(keys.open_text(&relabelled, b"persons.name/p1"), Err(VaultError::CannotOpen(4)));
        for bad in ["", "v.", "v0.AAAA", "x1.AAAA", "v1", "v1.!!!", "v99999999.AAAA", "v1.AAAA"] {
            assert!(keys.open(bad, b"").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_differ_and_blind_index_is_keyed() {
        let keys = DataKeys::new(&[1u8; 32]);
        let a = keys.seal(1, b"x", b"");
        let b = keys.seal(2, b"x", b"");
        assert_eq!(keys.open(&a, b"").unwrap().0, 1);
        assert_eq!(keys.open(&b, b"").unwrap().0, 2);
        let i = keys.blind_index("ssn", "35020519800517901X");
        assert_eq!(i.len(), 32);
        // Lowercase hex, as the indexes already stored were written.
        assert!(i.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{i}");
        assert_eq!(i, keys.blind_index("ssn", "35020519800517901X"));
        assert_ne!(i, keys.blind_index("doc", "35020519800517901X"));
        assert_ne!(i, DataKeys::new(&[2u8; 32]).blind_index("ssn", "35020519800517901X"));
    }
}
