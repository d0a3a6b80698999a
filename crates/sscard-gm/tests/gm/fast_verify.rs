//! The table-based verifier agrees with the `sm2` crate's plain verifier on
//! valid and invalid signatures (random keys, messages and damage).

use proptest::prelude::*;
use sscard_gm::sm2::{SigningKey, VerifyingKey};

/// Building a key's table takes milliseconds, so the cases share keys.
static KEYS: std::sync::LazyLock<Vec<(SigningKey, VerifyingKey)>> = std::sync::LazyLock::new(|| {
    (0..4)
        .map(|_| {
            let key = SigningKey::generate();
            // A fresh parse, as a terminal would do, besides the signing key's own copy.
            let parsed = VerifyingKey::from_spki_pem(&key.verifying_key().to_spki_pem()).unwrap();
            (key, parsed)
        })
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn agrees_with_reference(
        msg in proptest::collection::vec(any::<u8>(), 0..120),
        flip_byte in 0usize..64,
        flip_bit in 0u8..8,
        other_msg in any::<bool>(),
    ) {
        let (key, parsed) = &KEYS[flip_byte % KEYS.len()];
        let sig = key.sign(&msg);
        for vk in [key.verifying_key(), parsed] {
            prop_assert_eq!(vk.verify(&msg, &sig), Ok(()));
            prop_assert_eq!(vk.verify_reference(&msg, &sig), Ok(()));

            let mut bad = sig;
            bad[flip_byte] ^= 1 << flip_bit;
            let fast = vk.verify(&msg, &bad);
            prop_assert!(fast.is_err());
            prop_assert_eq!(fast, vk.verify_reference(&msg, &bad));

            if other_msg {
                let mut m2 = msg.clone();
                m2.push(1);
                prop_assert!(vk.verify(&m2, &sig).is_err());
                prop_assert_eq!(vk.verify(&m2, &sig), vk.verify_reference(&m2, &sig));
            }
        }
    }

    #[test]
    fn random_signatures_agree(sig in proptest::array::uniform32(any::<u8>()), sig2 in proptest::array::uniform32(any::<u8>())) {
        let vk = &KEYS[usize::from(sig[0]) % KEYS.len()].1;
        let mut raw = [0u8; 64];
        raw[..32].copy_from_slice(&sig);
        raw[32..].copy_from_slice(&sig2);
        prop_assert_eq!(vk.verify(b"m", &raw), vk.verify_reference(b"m", &raw));
        prop_assert!(vk.verify(b"m", &raw).is_err());
    }
}
