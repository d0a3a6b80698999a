//! Plain single-threaded token throughput measurement, for `sscard bench
//! crypto` to print next to `openssl speed sm2`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::offline::{OfflineVerifier, PublishedKey};
use crate::sm2::SigningKey;
use crate::token::{TokenClaims, TokenFlags, sign_token};

/// Operations per second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenRates {
    /// `sign_token` calls per second (SM2 sign + encoding).
    pub sign_per_s: f64,
    /// `OfflineVerifier::verify` calls per second (one key, 10,000 revoked ids).
    pub verify_per_s: f64,
}

/// Number of revoked ids loaded into the verifier being measured.
pub const REVOKED_IDS: usize = 10_000;

/// A key, a verifier holding its public key and [`REVOKED_IDS`] revoked ids,
/// and the claims template used by the benchmarks.
pub fn fixture() -> (SigningKey, OfflineVerifier, TokenClaims) {
    let key = SigningKey::generate();
    let published = PublishedKey {
        key_id: 1,
        public_key_pem: key.verifying_key().to_spki_pem(),
        not_before: 0,
        not_after: i64::MAX,
    };
    let revoked = (0..REVOKED_IDS).map(|i| {
        let mut id = [0xEEu8; 16];
        id[..8].copy_from_slice(&(i as u64).to_be_bytes());
        id
    });
    let verifier = OfflineVerifier::new(&[published], revoked, 30)
        .unwrap_or_else(|e| unreachable!("a freshly generated key loads: {e}"));
    let claims = TokenClaims {
        key_id: 1,
        ecard_id: crate::rand::random_bytes(),
        status: crate::token::STATUS_ACTIVE,
        flags: TokenFlags::default(),
        region: 350_200,
        issued_at: 1_764_000_000,
        ttl_s: 60,
        nonce: 0,
    };
    (key, verifier, claims)
}

/// Sign tokens for `duration`, then verify tokens for `duration` (total
/// about twice `duration`, like `openssl speed -seconds`), on this thread.
pub fn measure_tokens(duration: Duration) -> TokenRates {
    let (key, verifier, mut claims) = fixture();

    let start = Instant::now();
    let mut signed = 0u64;
    let mut samples = Vec::with_capacity(64);
    while start.elapsed() < duration || signed == 0 {
        claims.nonce = signed;
        let t = sign_token(black_box(&claims), &key);
        if samples.len() < 64 {
            samples.push(t);
        } else {
            black_box(t);
        }
        signed += 1;
    }
    let sign_per_s = signed as f64 / start.elapsed().as_secs_f64();

    let now = claims.issued_at + 1;
    let start = Instant::now();
    let mut verified = 0u64;
    while start.elapsed() < duration || verified == 0 {
        let t = &samples[(verified as usize) % samples.len()];
        let ok = verifier.verify(black_box(t), now).is_ok();
        debug_assert!(ok);
        black_box(ok);
        verified += 1;
    }
    let verify_per_s = verified as f64 / start.elapsed().as_secs_f64();

    TokenRates { sign_per_s, verify_per_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_positive_and_fixture_verifies() {
        let (key, v, claims) = fixture();
        assert_eq!(v.revoked_len(), REVOKED_IDS);
        let t = sign_token(&claims, &key);
        assert!(v.verify(&t, claims.issued_at).is_ok());
        let r = measure_tokens(Duration::from_millis(20));
        assert!(r.sign_per_s > 0.0 && r.verify_per_s > 0.0);
    }
}
