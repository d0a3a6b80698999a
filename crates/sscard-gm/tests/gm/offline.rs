//! Offline verification: tampering, expiry with skew, key rotation,
//! revocations and the terminal's snapshot.

use sscard_gm::offline::{OfflineSnapshot, OfflineVerifier, PublishedKey, Rejection};
use sscard_gm::sm2::SigningKey;
use sscard_gm::token::{SignedToken, TOKEN_LEN, TokenClaims, TokenFlags, decode_token, sign_token};

const T0: i64 = 1_764_000_000;

fn claims(key_id: u32, issued_at: i64) -> TokenClaims {
    TokenClaims {
        key_id,
        ecard_id: [0xAB; 16],
        status: 1,
        flags: TokenFlags { retired: false, minor: true, temporary: false },
        region: 350_203,
        issued_at,
        ttl_s: 60,
        nonce: 42,
    }
}

fn published(key_id: u32, k: &SigningKey, not_before: i64, not_after: i64) -> PublishedKey {
    PublishedKey { key_id, public_key_pem: k.verifying_key().to_spki_pem(), not_before, not_after }
}

fn setup() -> (SigningKey, OfflineVerifier) {
    let k = SigningKey::generate();
    let v = OfflineVerifier::new(&[published(7, &k, T0 - 86_400, T0 + 86_400)], [], 30).unwrap();
    (k, v)
}

fn retext(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!("SSC1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[test]
fn valid_token_verifies() {
    let (k, v) = setup();
    let text = sign_token(&claims(7, T0), &k);
    let ok = v.verify(&text, T0 + 5).unwrap();
    assert_eq!(ok.claims, claims(7, T0));
    assert_eq!(ok.expires_at, T0 + 60);
}

#[test]
fn every_tampered_byte_is_refused() {
    let (k, v) = setup();
    let text = sign_token(&claims(7, T0), &k);
    let bytes = *decode_token(&text).unwrap().as_bytes();
    assert_eq!(bytes.len(), TOKEN_LEN);
    for i in 0..TOKEN_LEN {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut t = bytes;
            t[i] ^= mask;
            let r = v.verify(&retext(&t), T0 + 5);
            let err = r.expect_err(&format!("byte {i} ^ {mask:#x} accepted"));
            // Before the signature check only parsing and key lookup can fail.
            assert!(
                matches!(err, Rejection::Malformed(_) | Rejection::UnknownKey { .. } | Rejection::BadSignature),
                "byte {i}: {err:?}"
            );
            if (1..5).contains(&i) {
                assert_eq!(err.code(), "unknown_key");
            } else if i >= 5 && i != 22 {
                assert_eq!(err.code(), "bad_signature", "byte {i} ^ {mask:#x}");
            }
        }
    }
    // Truncation, extension, and changes to the text itself.
    assert_eq!(v.verify(&retext(&bytes[..108]), T0).unwrap_err().code(), "malformed");
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(v.verify(&retext(&longer), T0).unwrap_err().code(), "malformed");
    assert_eq!(v.verify(&text.replace("SSC1.", "SSC2."), T0).unwrap_err().code(), "malformed");
}

#[test]
fn expiry_and_future_with_skew() {
    let (k, v) = setup();
    let text = sign_token(&claims(7, T0), &k);
    // ttl 60 + skew 30.
    assert!(v.verify(&text, T0 + 90).is_ok());
    assert_eq!(v.verify(&text, T0 + 91), Err(Rejection::Expired { expires_at: T0 + 60 }));
    assert_eq!(v.verify(&text, T0 + 91).unwrap_err().code(), "expired");
    // Issued 30 s "in the future" is tolerated, 31 s is not.
    assert!(v.verify(&text, T0 - 30).is_ok());
    assert_eq!(v.verify(&text, T0 - 31), Err(Rejection::NotYetValid { issued_at: T0 }));
    assert_eq!(v.verify(&text, T0 - 31).unwrap_err().code(), "not_yet_valid");

    // Zero skew.
    let v0 = OfflineVerifier::new(&v.to_snapshot([]).keys, [], 0).unwrap();
    assert!(v0.verify(&text, T0 + 60).is_ok());
    assert_eq!(v0.verify(&text, T0 + 61).unwrap_err().code(), "expired");
    assert_eq!(v0.verify(&text, T0 - 1).unwrap_err().code(), "not_yet_valid");

    // Extreme times do not overflow.
    let far = sign_token(&claims(7, i64::MAX), &k);
    let wide = OfflineVerifier::new(&[published(7, &k, i64::MIN, i64::MAX)], [], i64::MAX).unwrap();
    assert!(wide.verify(&far, i64::MAX).is_ok());
    assert_eq!(wide.verify(&far, i64::MIN).unwrap_err().code(), "not_yet_valid");
    let ancient = sign_token(&claims(7, i64::MIN), &k);
    assert_eq!(wide.verify(&ancient, i64::MAX).unwrap_err().code(), "expired");
}

#[test]
fn rotated_key_refused_after_not_after() {
    let old = SigningKey::generate();
    let new = SigningKey::generate();
    let rotation = T0;
    let keys = [published(1, &old, T0 - 365 * 86_400, rotation), published(2, &new, rotation + 1, i64::MAX)];
    let v = OfflineVerifier::new(&keys, [], 30).unwrap();
    // Old key, issued before rotation: still good during its ttl.
    let before = sign_token(&claims(1, rotation - 5), &old);
    assert!(v.verify(&before, rotation + 10).is_ok());
    assert_eq!(v.verify(&before, rotation + 86).unwrap_err().code(), "expired");
    // Old key used after its not_after: refused even though fresh.
    let after = sign_token(&claims(1, rotation + 100), &old);
    assert_eq!(v.verify(&after, rotation + 100), Err(Rejection::KeyNotValid { key_id: 1, issued_at: rotation + 100 }));
    assert_eq!(v.verify(&after, rotation + 100).unwrap_err().code(), "key_not_valid");
    // New key before its not_before.
    let early = sign_token(&claims(2, rotation - 100), &new);
    assert_eq!(v.verify(&early, rotation - 100).unwrap_err().code(), "key_not_valid");
    let fresh = sign_token(&claims(2, rotation + 100), &new);
    assert!(v.verify(&fresh, rotation + 100).is_ok());
    // Wrong key for the id.
    let forged = sign_token(&claims(2, rotation + 100), &old);
    assert_eq!(v.verify(&forged, rotation + 100), Err(Rejection::BadSignature));
    // Unknown id.
    let unknown = sign_token(&claims(3, rotation + 100), &new);
    assert_eq!(v.verify(&unknown, rotation + 100), Err(Rejection::UnknownKey { key_id: 3 }));
}

#[test]
fn revocations_and_status() {
    let (k, mut v) = setup();
    let text = sign_token(&claims(7, T0), &k);
    assert!(v.verify(&text, T0).is_ok());
    v.apply_revocations([[0xAB; 16], [1; 16]], []);
    assert_eq!(v.verify(&text, T0), Err(Rejection::Revoked));
    assert_eq!(v.verify(&text, T0).unwrap_err().code(), "revoked");
    assert_eq!(v.revoked_len(), 2);
    v.apply_revocations([], [[0xAB; 16]]);
    assert!(v.verify(&text, T0).is_ok());
    assert!(v.is_revoked(&[1; 16]));

    let mut c = claims(7, T0);
    c.status = 2;
    let suspended = sign_token(&c, &k);
    assert_eq!(v.verify(&suspended, T0), Err(Rejection::NotActive { status: 2 }));
    assert_eq!(v.verify(&suspended, T0).unwrap_err().code(), "not_active");
    // Revocation is reported before status.
    v.apply_revocations([[0xAB; 16]], []);
    assert_eq!(v.verify(&suspended, T0), Err(Rejection::Revoked));
}

#[test]
fn snapshot_roundtrip_through_json() {
    let (k, mut v) = setup();
    v.apply_revocations([[3; 16], [0xAB; 16]], []);
    v.set_revocations_seq(1234);
    // The verifier keeps fingerprints; the caller hands in the full list it keeps.
    let snap = v.to_snapshot([[0xAB; 16], [3; 16], [3; 16]]);
    assert_eq!(snap.revoked, vec![[3; 16], [0xAB; 16]], "sorted, once each");
    let json = serde_json::to_string_pretty(&snap).unwrap();
    assert!(json.contains("abababababababababababababababab"), "{json}");
    assert!(json.contains("\"revocations_seq\": 1234"));
    let back: OfflineSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    let v2 = OfflineVerifier::from_snapshot(&back).unwrap();
    assert_eq!(v2.revocations_seq(), 1234);
    assert_eq!(v2.clock_skew_s(), 30);
    let text = sign_token(&claims(7, T0), &k);
    assert_eq!(v2.verify(&text, T0), Err(Rejection::Revoked));

    let bad = json.replace("abababababababababababababababab", "zz");
    assert!(serde_json::from_str::<OfflineSnapshot>(&bad).is_err());
    // Published keys use the API's field names.
    let pk: serde_json::Value = serde_json::to_value(&snap.keys[0]).unwrap();
    for f in ["key_id", "public_key_pem", "not_before", "not_after"] {
        assert!(pk.get(f).is_some(), "{f}");
    }
}

#[test]
fn bad_key_sets_are_refused() {
    use sscard_gm::offline::KeySetError;
    let k = SigningKey::generate();
    let good = published(1, &k, 0, 10);
    let mut bad_pem = good.clone();
    bad_pem.public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into();
    assert_eq!(OfflineVerifier::new(&[bad_pem], [], 0).unwrap_err(), KeySetError::InvalidPublicKey { key_id: 1 });
    assert_eq!(
        OfflineVerifier::new(&[good.clone(), good.clone()], [], 0).unwrap_err(),
        KeySetError::DuplicateKeyId { key_id: 1 }
    );
    let mut inverted = good.clone();
    inverted.not_before = 11;
    assert_eq!(OfflineVerifier::new(&[inverted], [], 0).unwrap_err(), KeySetError::EmptyValidity { key_id: 1 });
    let mut v = OfflineVerifier::new(&[good], [], 0).unwrap();
    let other = SigningKey::generate();
    v.replace_keys(&[published(2, &other, 0, i64::MAX)]).unwrap();
    let text = sign_token(&claims(2, T0), &other);
    assert!(v.verify(&text, T0).is_ok());
    assert_eq!(v.to_snapshot([]).keys.len(), 1);
}

#[test]
fn codes_are_stable_and_distinct() {
    let mut codes = Rejection::CODES.to_vec();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 8);
    let _ = SignedToken::from_bytes(&[0u8; TOKEN_LEN]).unwrap_err();
}
