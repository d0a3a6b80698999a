//! Property tests of the offline verifier (the fuzz target `qr_token` in `fuzz/` runs the
//! same code at length): it never panics on any text, a signed token is judged exactly as its
//! claims are by `check_signed_claims`, and a token with any one character changed is never
//! accepted as another token.

use proptest::prelude::*;
use sscard_gm::offline::{OfflineVerifier, PublishedKey};
use sscard_gm::sm2::SigningKey;
use sscard_gm::token::{TokenClaims, TokenFlags, sign_token};
use std::sync::LazyLock;

const T0: i64 = 1_764_000_000;

static KEY: LazyLock<SigningKey> = LazyLock::new(SigningKey::generate);

static VERIFIER: LazyLock<OfflineVerifier> = LazyLock::new(|| {
    let published = PublishedKey {
        key_id: 7,
        public_key_pem: KEY.verifying_key().to_spki_pem(),
        not_before: T0 - 86_400,
        not_after: T0 + 86_400,
    };
    OfflineVerifier::new(&[published], [[0xEE; 16]], 30).expect("one key")
});

fn arb_claims() -> impl Strategy<Value = TokenClaims> {
    (
        prop_oneof![Just(7u32), any::<u32>()],
        prop_oneof![Just([0xEE; 16]), any::<[u8; 16]>()],
        prop_oneof![Just(1u8), any::<u8>()],
        (T0 - 100_000..T0 + 100_000, any::<u16>(), any::<u64>()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(|(key_id, ecard_id, status, (issued_at, ttl_s, nonce), (retired, minor, temporary))| {
            TokenClaims {
                key_id,
                ecard_id,
                status,
                flags: TokenFlags { retired, minor, temporary },
                region: 350_203,
                issued_at,
                ttl_s,
                nonce,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_signed_token_is_judged_by_its_claims(c in arb_claims(), now in T0 - 200_000..T0 + 200_000) {
        let text = sign_token(&c, &KEY);
        let by_text = VERIFIER.verify(&text, now);
        let by_claims = VERIFIER.check_signed_claims(&c, now);
        prop_assert_eq!(&by_text, &by_claims);
        if let Ok(v) = by_text {
            prop_assert_eq!(v.claims, c);
            prop_assert!(c.issued_at <= now + 30 && now <= v.expires_at + 30);
        }
    }

    #[test]
    fn one_changed_character_is_never_another_valid_token(
        c in arb_claims(),
        pos in 5usize..151,
        with in proptest::sample::select(&b"ABCabc012-_+/=. "[..]),
    ) {
        let text = sign_token(&c, &KEY);
        let mut bytes = text.clone().into_bytes();
        prop_assume!(bytes[pos] != with);
        bytes[pos] = with;
        let changed = String::from_utf8(bytes).expect("ascii");
        prop_assert!(VERIFIER.verify(&changed, T0).is_err(), "{} accepted", changed);
    }

    #[test]
    fn no_text_makes_the_verifier_panic(s in "\\PC{0,200}", tail in "[A-Za-z0-9_-]{140,150}") {
        let _ = VERIFIER.verify(&s, T0);
        let _ = VERIFIER.verify(&format!("SSC1.{tail}"), T0);
    }
}
