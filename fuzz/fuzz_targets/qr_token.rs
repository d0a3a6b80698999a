//! E-card QR tokens: the text and binary decoders and the terminals' offline verifier never
//! panic, and a token that decodes re-encodes to the same text. Inputs starting with `!`
//! carry claims and a clock instead: they go to the checks the verifier makes after the
//! signature (key validity, not yet valid, expiry, revocation, status) as authentic claims,
//! and an accepted token must really be valid at that time. (Signing each input with SM2
//! would make the target about 50 times slower; the signature step itself is reached by the
//! text inputs, whose key id the fuzzer finds.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use sscard_gm::offline::{OfflineVerifier, PublishedKey};
use sscard_gm::sm2::SigningKey;
use sscard_gm::token::{CLAIMS_LEN, STATUS_ACTIVE, SignedToken, TokenClaims, decode_token};
use std::sync::LazyLock;

/// A verifier holding one issuer key (id 1, valid in 2025-2027); the seed corpus holds
/// tokens this key signed, so mutations reach the signature and the claim checks.
static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::from_secret_bytes(&[7u8; 32]).expect("a fixed test key"));

static VERIFIER: LazyLock<OfflineVerifier> = LazyLock::new(|| {
    let key = &*KEY;
    let published = PublishedKey {
        key_id: 1,
        public_key_pem: key.verifying_key().to_spki_pem(),
        not_before: 1_735_689_600,
        not_after: 1_798_761_600,
    };
    OfflineVerifier::new(&[published], [[0xAA; 16]], 30).expect("one valid key")
});

const NOW: i64 = 1_764_000_030;

/// `!`, 45 claim bytes, 8 bytes of clock: sign, verify, and check the verdict.
fn signed(data: &[u8]) {
    let Some(claims) = data.get(1..1 + CLAIMS_LEN).and_then(|b| <&[u8; CLAIMS_LEN]>::try_from(b).ok()) else {
        return;
    };
    let Ok(claims) = TokenClaims::decode(claims) else { return };
    let now =
        data.get(1 + CLAIMS_LEN..9 + CLAIMS_LEN).map_or(NOW, |b| i64::from_be_bytes(b.try_into().expect("8 bytes")));
    match VERIFIER.check_signed_claims(&claims, now) {
        Ok(v) => {
            let skew = VERIFIER.clock_skew_s();
            assert_eq!(claims.key_id, 1);
            assert_eq!(claims.status, STATUS_ACTIVE);
            assert_ne!(claims.ecard_id, [0xAA; 16], "a revoked e-card is refused");
            assert!((1_735_689_600..=1_798_761_600).contains(&claims.issued_at));
            assert!(claims.issued_at <= now.saturating_add(skew));
            assert!(now <= v.expires_at.saturating_add(skew));
        }
        Err(r) => assert!(!matches!(r.code(), "bad_signature" | "malformed"), "claims are checked, not bytes"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'!') {
        signed(data);
        return;
    }
    if let Ok(token) = SignedToken::from_bytes(data) {
        assert_eq!(token.as_bytes().as_slice(), data);
        let _ = token.claims().expires_at();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(token) = decode_token(text) {
        assert_eq!(token.to_text(), text.trim_ascii(), "one token has one text form");
    }
    if let Ok(v) = VERIFIER.verify(text, NOW) {
        assert!(v.expires_at >= NOW - VERIFIER.clock_skew_s());
    }
});
