//! SM3 hashing (GB/T 32905) and HMAC-SM3.

use hmac::{KeyInit, Mac};
use sm3::Digest;

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// SM3 digest of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(data).into()
}

/// HMAC-SM3 of `data` under `key` (any key length).
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSm3::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A keyed HMAC-SM3 state that can be cloned cheaply to MAC many messages
/// under the same key (used by PBKDF2).
#[derive(Clone)]
pub(crate) struct HmacSm3Key(HmacSm3);

impl HmacSm3Key {
    pub(crate) fn new(key: &[u8]) -> Self {
        Self(HmacSm3::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length")))
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.0.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// Streaming SM3.
#[derive(Clone, Default)]
pub struct Sm3Hasher(sm3::Sm3);

impl std::fmt::Debug for Sm3Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm3Hasher")
    }
}

impl Sm3Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Absorb more data.
    pub fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }

    /// The digest of everything absorbed.
    pub fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbt_32905_abc() {
        assert_eq!(hex::encode(sm3(b"abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn gbt_32905_abcd16() {
        let data = b"abcd".repeat(16);
        let want = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732";
        assert_eq!(hex::encode(sm3(&data)), want);
        let mut h = Sm3Hasher::new();
        for chunk in data.chunks(7) {
            h.update(chunk);
        }
        assert_eq!(hex::encode(h.finalize()), want);
    }

    #[test]
    fn hmac_matches_keyed_state() {
        let k = HmacSm3Key::new(b"key");
        assert_eq!(k.mac(&[b"hello ", b"world"]), hmac_sm3(b"key", b"hello world"));
        // Long keys are hashed first.
        let long = [7u8; 100];
        assert_eq!(HmacSm3Key::new(&long).mac(&[b"x"]), hmac_sm3(&long, b"x"));
    }
}
