//! The SM3 key derivation function of GB/T 32918.4 §5.4.3 and a helper that
//! derives SM4 keys from the 32-byte master key.
//!
//! `KDF(Z, klen)` = the first `klen` bytes of
//! `SM3(Z || ct=1) || SM3(Z || ct=2) || ...` with a 32-bit big-endian counter.
//! This is the same construction as ANSI X9.63 with empty shared info, so
//! OpenSSL 3 reproduces it with `openssl kdf -kdfopt digest:SM3 ... X963KDF`.

use crate::sm3::Sm3Hasher;

/// Fill `out` with `KDF(z, out.len())`.
pub fn sm3_kdf(z: &[u8], out: &mut [u8]) {
    sm3_kdf_parts(&[z], out);
}

/// Like [`sm3_kdf`] with `Z` given as the concatenation of `parts`.
pub fn sm3_kdf_parts(parts: &[&[u8]], out: &mut [u8]) {
    let mut prefix = Sm3Hasher::new();
    for p in parts {
        prefix.update(p);
    }
    let mut counter: u32 = 1;
    for chunk in out.chunks_mut(32) {
        let mut h = prefix.clone();
        h.update(&counter.to_be_bytes());
        let block = h.finalize();
        chunk.copy_from_slice(&block[..chunk.len()]);
        // GB/T 32918.4 bounds klen by (2^32 - 1) * 32 bytes; nobody asks for 128 GiB.
        counter = counter.wrapping_add(1);
    }
}

/// Derive a 16-byte SM4 key for `label` (e.g. `"sm4/issuer-keys"`,
/// `"sm4/pii"`) from the 32-byte master key: `KDF(master || label, 16)`.
/// Different labels give independent keys.
pub fn derive_key(master: &[u8; 32], label: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    sm3_kdf_parts(&[master, label.as_bytes()], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl kdf -keylen 48 -kdfopt digest:SM3
    ///  -kdfopt hexsecret:000102030405060708090a0b0c0d0e0f X963KDF`
    #[test]
    fn matches_openssl_x963_sm3() {
        let z: Vec<u8> = (0u8..16).collect();
        let mut out = [0u8; 48];
        sm3_kdf(&z, &mut out);
        assert_eq!(
            hex::encode(out),
            "36f913884de844fce7bc7958fc2a3dd004f6992a3dd76a7fc2e287f2bd58a8dd775585a105be00759bb226caa8917eda"
        );
        // Shorter outputs are prefixes.
        let mut short = [0u8; 20];
        sm3_kdf(&z, &mut short);
        assert_eq!(short[..], out[..20]);
    }

    /// `openssl kdf -keylen 16 -kdfopt digest:SM3
    ///  -kdfopt hexsecret:<32 x 11><hex of "sm4/pii"> X963KDF`
    #[test]
    fn derive_key_known_answer() {
        let master = [0x11u8; 32];
        assert_eq!(hex::encode(derive_key(&master, "sm4/pii")), "463aa6c8da3215503543b118db6364f6");
        assert_ne!(derive_key(&master, "sm4/pii"), derive_key(&master, "sm4/keys"));
        assert_ne!(derive_key(&master, "a"), derive_key(&[0x12u8; 32], "a"));
    }
}
