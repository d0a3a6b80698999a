//! The offline verifier that terminals embed: signature, key validity,
//! expiry with a clock-skew allowance, and the terminal's copy of the
//! revocation list. No I/O: the terminal loads and saves an
//! [`OfflineSnapshot`] (serde) itself.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::revocations::RevocationSet;
use crate::sm2::VerifyingKey;
use crate::token::{STATUS_ACTIVE, TokenClaims, TokenError, decode_token};

/// Default clock-skew allowance for terminals, in seconds.
pub const DEFAULT_CLOCK_SKEW_S: i64 = 30;

/// One public issuer key as served at `GET /api/v1/ecard/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKey {
    /// The id carried in tokens.
    pub key_id: u32,
    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub public_key_pem: String,
    /// First unix second at which the key may issue tokens.
    pub not_before: i64,
    /// Last unix second at which the key may issue tokens.
    pub not_after: i64,
}

/// Why a set of published keys could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    /// A key's PEM is not an SM2 public key.
    #[error("key {key_id}: invalid SM2 public key PEM")]
    InvalidPublicKey {
        /// The offending key.
        key_id: u32,
    },
    /// Two entries share a `key_id`.
    #[error("key {key_id} appears twice")]
    DuplicateKeyId {
        /// The repeated id.
        key_id: u32,
    },
    /// `not_before > not_after`.
    #[error("key {key_id}: not_before is after not_after")]
    EmptyValidity {
        /// The offending key.
        key_id: u32,
    },
}

/// Why a token was refused. [`Rejection::code`] gives a stable string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The text could not be parsed.
    #[error("malformed token: {0}")]
    Malformed(#[from] TokenError),
    /// No published key has this id.
    #[error("unknown issuer key {key_id}")]
    UnknownKey {
        /// The key id in the token.
        key_id: u32,
    },
    /// The signature does not verify under the key.
    #[error("bad signature")]
    BadSignature,
    /// The token was issued outside the key's validity period.
    #[error("issuer key {key_id} was not valid at issue time {issued_at}")]
    KeyNotValid {
        /// The key id in the token.
        key_id: u32,
        /// The token's issue time.
        issued_at: i64,
    },
    /// `issued_at` is further in the future than the clock-skew allowance.
    #[error("token issued in the future ({issued_at})")]
    NotYetValid {
        /// The token's issue time.
        issued_at: i64,
    },
    /// The token's lifetime (plus skew) is over.
    #[error("token expired at {expires_at}")]
    Expired {
        /// `issued_at + ttl_s`.
        expires_at: i64,
    },
    /// The e-card is on the revocation list.
    #[error("e-card revoked")]
    Revoked,
    /// The token's status is not active.
    #[error("e-card not active (status {status})")]
    NotActive {
        /// The status byte.
        status: u8,
    },
}

impl Rejection {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::UnknownKey { .. } => "unknown_key",
            Rejection::KeyNotValid { .. } => "key_not_valid",
            Rejection::BadSignature => "bad_signature",
            Rejection::Expired { .. } => "expired",
            Rejection::NotYetValid { .. } => "not_yet_valid",
            Rejection::Revoked => "revoked",
            Rejection::NotActive { .. } => "not_active",
        }
    }

    /// Every code [`Rejection::code`] can return.
    pub const CODES: [&'static str; 8] = [
        "malformed",
        "unknown_key",
        "key_not_valid",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "revoked",
        "not_active",
    ];
}

/// A token that passed every offline check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedToken {
    /// The signed claims.
    pub claims: TokenClaims,
    /// `issued_at + ttl_s`.
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
struct LoadedKey {
    key: VerifyingKey,
    published: PublishedKey,
}

/// What a terminal keeps in its sync file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineSnapshot {
    /// Issuer keys from `GET /api/v1/ecard/keys`.
    pub keys: Vec<PublishedKey>,
    /// Revoked e-card ids as 32 lowercase hex characters, sorted.
    #[serde(with = "hex_ids")]
    pub revoked: Vec<[u8; 16]>,
    /// The last revocation sequence applied (`GET /api/v1/revocations?since=SEQ`).
    #[serde(default)]
    pub revocations_seq: u64,
    /// Clock-skew allowance in seconds.
    pub clock_skew_s: i64,
}

/// Verifies QR tokens offline. Keys are parsed once at construction.
#[derive(Debug, Clone)]
pub struct OfflineVerifier {
    keys: HashMap<u32, LoadedKey>,
    /// Fingerprints, not ids: ten million revoked e-cards in about 90 MB (see [`RevocationSet`]).
    revoked: RevocationSet,
    clock_skew_s: i64,
    revocations_seq: u64,
}

impl OfflineVerifier {
    /// Load `keys` (parsed and checked once), the revoked e-card ids, and the
    /// clock-skew allowance in seconds (negative values count as 0).
    pub fn new(
        keys: &[PublishedKey],
        revoked: impl IntoIterator<Item = [u8; 16]>,
        clock_skew_s: i64,
    ) -> Result<Self, KeySetError> {
        Ok(Self {
            keys: load_keys(keys)?,
            revoked: revoked.into_iter().collect(),
            clock_skew_s: clock_skew_s.max(0),
            revocations_seq: 0,
        })
    }

    /// Rebuild from a saved snapshot.
    pub fn from_snapshot(s: &OfflineSnapshot) -> Result<Self, KeySetError> {
        let mut v = Self::new(&s.keys, s.revoked.iter().copied(), s.clock_skew_s)?;
        v.revocations_seq = s.revocations_seq;
        Ok(v)
    }

    /// The state to save: the keys sorted by id and `revoked`, the full list of revoked ids
    /// (sorted here). The verifier holds fingerprints, not the ids (see [`RevocationSet`]), so
    /// whoever keeps the list (the terminal's sync) hands it in.
    pub fn to_snapshot(&self, revoked: impl IntoIterator<Item = [u8; 16]>) -> OfflineSnapshot {
        let mut keys: Vec<PublishedKey> = self.keys.values().map(|k| k.published.clone()).collect();
        keys.sort_by_key(|k| k.key_id);
        let mut revoked: Vec<[u8; 16]> = revoked.into_iter().collect();
        revoked.sort_unstable();
        revoked.dedup();
        OfflineSnapshot { keys, revoked, revocations_seq: self.revocations_seq, clock_skew_s: self.clock_skew_s }
    }

    /// Replace the key set (after a key sync); on error nothing changes.
    pub fn replace_keys(&mut self, keys: &[PublishedKey]) -> Result<(), KeySetError> {
        self.keys = load_keys(keys)?;
        Ok(())
    }

    /// Add and remove revoked e-card ids (a revocation delta). Removals are
    /// applied after additions, so an id in both ends up not revoked.
    pub fn apply_revocations(
        &mut self,
        added: impl IntoIterator<Item = [u8; 16]>,
        removed: impl IntoIterator<Item = [u8; 16]>,
    ) {
        for id in added {
            self.revoked.insert(&id);
        }
        for id in removed {
            self.revoked.remove(&id);
        }
    }

    /// Record the revocation sequence number the list is current to.
    pub fn set_revocations_seq(&mut self, seq: u64) {
        self.revocations_seq = seq;
    }

    /// The revocation sequence number the list is current to.
    pub fn revocations_seq(&self) -> u64 {
        self.revocations_seq
    }

    /// Whether `ecard_id` is on the revocation list.
    pub fn is_revoked(&self, ecard_id: &[u8; 16]) -> bool {
        self.revoked.contains(ecard_id)
    }

    /// Number of revoked ids held.
    pub fn revoked_len(&self) -> usize {
        self.revoked.len()
    }

    /// The revocation set itself (its size, for the benchmark and the terminal's report).
    pub fn revocations(&self) -> &RevocationSet {
        &self.revoked
    }

    /// The clock-skew allowance in seconds.
    pub fn clock_skew_s(&self) -> i64 {
        self.clock_skew_s
    }

    /// Check `token_text` at time `now_unix_s`.
    ///
    /// Order: parse, key lookup, signature, then the signed fields (key
    /// validity at issue time, not-yet-valid, expiry, revocation, status), so
    /// every rejection after `bad_signature` is about authentic data.
    pub fn verify(&self, token_text: &str, now_unix_s: i64) -> Result<VerifiedToken, Rejection> {
        let token = decode_token(token_text)?;
        let claims = *token.claims();
        let key = self.keys.get(&claims.key_id).ok_or(Rejection::UnknownKey { key_id: claims.key_id })?;
        key.key.verify(token.signed_bytes(), token.signature()).map_err(|_| Rejection::BadSignature)?;
        self.check_signed_claims(&claims, now_unix_s)
    }

    /// The checks [`OfflineVerifier::verify`] makes after the signature verified, on claims
    /// that are authentic: key validity at issue time, not-yet-valid, expiry (each with the
    /// clock-skew allowance), revocation, status. Public so the fuzz target can reach them
    /// without an SM2 signature per input; never call it on claims whose signature was not
    /// checked.
    pub fn check_signed_claims(&self, claims: &TokenClaims, now_unix_s: i64) -> Result<VerifiedToken, Rejection> {
        let claims = *claims;
        let key = self.keys.get(&claims.key_id).ok_or(Rejection::UnknownKey { key_id: claims.key_id })?;
        let p = &key.published;
        if claims.issued_at < p.not_before || claims.issued_at > p.not_after {
            return Err(Rejection::KeyNotValid { key_id: claims.key_id, issued_at: claims.issued_at });
        }
        if claims.issued_at > now_unix_s.saturating_add(self.clock_skew_s) {
            return Err(Rejection::NotYetValid { issued_at: claims.issued_at });
        }
        let expires_at = claims.expires_at();
        if now_unix_s > expires_at.saturating_add(self.clock_skew_s) {
            return Err(Rejection::Expired { expires_at });
        }
        if self.revoked.contains(&claims.ecard_id) {
            return Err(Rejection::Revoked);
        }
        if claims.status != STATUS_ACTIVE {
            return Err(Rejection::NotActive { status: claims.status });
        }
        Ok(VerifiedToken { claims, expires_at })
    }
}

fn load_keys(keys: &[PublishedKey]) -> Result<HashMap<u32, LoadedKey>, KeySetError> {
    let mut map = HashMap::with_capacity(keys.len());
    for p in keys {
        if p.not_before > p.not_after {
            return Err(KeySetError::EmptyValidity { key_id: p.key_id });
        }
        let key = VerifyingKey::from_spki_pem(&p.public_key_pem)
            .map_err(|_| KeySetError::InvalidPublicKey { key_id: p.key_id })?;
        key.precompute();
        let loaded = LoadedKey { key, published: p.clone() };
        if map.insert(p.key_id, loaded).is_some() {
            return Err(KeySetError::DuplicateKeyId { key_id: p.key_id });
        }
    }
    Ok(map)
}

/// Serde helpers for e-card ids as 32 lowercase hex characters.
pub mod hex_ids {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Format one id.
    pub fn encode(id: &[u8; 16]) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(32);
        for b in id {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parse one id (32 hex characters, either case).
    pub fn decode(s: &str) -> Option<[u8; 16]> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            let hi = (b[2 * i] as char).to_digit(16)?;
            let lo = (b[2 * i + 1] as char).to_digit(16)?;
            *o = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(out)
    }

    /// Serialize a list of ids.
    pub fn serialize<S: Serializer>(ids: &[[u8; 16]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(encode))
    }

    /// Deserialize a list of ids.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 16]>, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        v.iter().map(|s| decode(s).ok_or_else(|| D::Error::custom(format!("invalid e-card id {s:?}")))).collect()
    }
}
