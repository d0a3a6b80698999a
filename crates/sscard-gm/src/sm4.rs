//! SM4-GCM (GB/T 32907 block cipher in GCM mode, RFC 8998) for data at rest.
//!
//! Sealed form: `nonce (12 bytes) || ciphertext || tag (16 bytes)`. The nonce
//! is random, so one key should seal well under 2^32 messages: derive one key
//! per purpose with [`crate::kdf::derive_key`] rather than sharing one key.
//!
//! SM4 has no hardware support here (~125 MB/s): use it for small fields and
//! keys, not bulk data.

use aes_gcm::aead::{AeadInOut as _, KeyInit as _};
use aes_gcm::{AesGcm, Nonce, Tag};
use sm4::Sm4;

type Sm4Gcm = AesGcm<Sm4, aes_gcm::aead::consts::U12>;

/// Nonce length.
pub const NONCE_LEN: usize = 12;
/// Tag length.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// SM4-GCM errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Sm4Error {
    /// Input shorter than nonce plus tag.
    #[error("sealed data too short")]
    TooShort,
    /// Wrong key, wrong associated data, or the data was modified.
    #[error("authentication failed")]
    AuthenticationFailed,
}

/// An SM4-GCM key with its key schedule, for sealing many values.
#[derive(Clone)]
pub struct Sm4Key(Sm4Gcm);

impl std::fmt::Debug for Sm4Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Key(..)")
    }
}

impl Sm4Key {
    /// Set up a 16-byte key.
    pub fn new(key: &[u8; 16]) -> Self {
        Self(Sm4Gcm::new(&(*key).into()))
    }

    /// Encrypt and authenticate `plaintext` (and authenticate `aad`) with a
    /// fresh random nonce: `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        self.seal_with_nonce(&crate::rand::nonce_bytes::<NONCE_LEN>(), plaintext, aad)
    }

    pub(crate) fn seal_with_nonce(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.extend_from_slice(nonce);
        out.extend_from_slice(plaintext);
        let n = Nonce::<aes_gcm::aead::consts::U12>::from(*nonce);
        let tag = self
            .0
            .encrypt_inout_detached(&n, aad, (&mut out[NONCE_LEN..]).into())
            .unwrap_or_else(|_| unreachable!("GCM accepts messages up to 64 GiB"));
        out.extend_from_slice(&tag);
        out
    }

    /// Check and decrypt the output of [`Sm4Key::seal`] with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Sm4Error> {
        if sealed.len() < OVERHEAD {
            return Err(Sm4Error::TooShort);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce = Nonce::<aes_gcm::aead::consts::U12>::try_from(nonce).map_err(|_| Sm4Error::TooShort)?;
        let tag = Tag::<aes_gcm::aead::consts::U16>::try_from(tag).map_err(|_| Sm4Error::TooShort)?;
        let mut buf = ct.to_vec();
        self.0
            .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
            .map_err(|_| Sm4Error::AuthenticationFailed)?;
        Ok(buf)
    }
}

/// Seal with a one-off key; see [`Sm4Key::seal`].
pub fn seal(key: &[u8; 16], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    Sm4Key::new(key).seal(plaintext, aad)
}

/// Open with a one-off key; see [`Sm4Key::open`].
pub fn open(key: &[u8; 16], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Sm4Error> {
    Sm4Key::new(key).open(sealed, aad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm4::cipher::{BlockCipherDecrypt as _, BlockCipherEncrypt as _};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn gbt_32907_block() {
        let key: [u8; 16] = h("0123456789abcdeffedcba9876543210").try_into().unwrap();
        let c = Sm4::new(&key.into());
        let mut block = key.into();
        c.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
        c.decrypt_block(&mut block);
        assert_eq!(block.as_slice(), &key);
    }

    #[test]
    fn rfc8998_a1_gcm() {
        let key: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        let iv: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
        let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let pt = h(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ));
        let ct = concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        );
        let tag = "83DE3541E4C2B58177E065A9BF7B62EC";
        let k = Sm4Key::new(&key);
        let sealed = k.seal_with_nonce(&iv, &pt, &aad);
        assert_eq!(hex::encode_upper(&sealed), format!("00001234567800000000ABCD{ct}{tag}"));
        assert_eq!(k.open(&sealed, &aad).unwrap(), pt);
    }

    #[test]
    fn seal_open_and_refusals() {
        let key = [7u8; 16];
        let sealed = seal(&key, b"secret", b"row 1");
        assert_eq!(sealed.len(), 6 + OVERHEAD);
        assert_eq!(open(&key, &sealed, b"row 1").unwrap(), b"secret");
        assert_ne!(seal(&key, b"secret", b"row 1"), sealed, "random nonce");
        assert_eq!(open(&key, &sealed, b"row 2"), Err(Sm4Error::AuthenticationFailed));
        assert_eq!(open(&[8u8; 16], &sealed, b"row 1"), Err(Sm4Error::AuthenticationFailed));
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert_eq!(open(&key, &t, b"row 1"), Err(Sm4Error::AuthenticationFailed), "byte {i}");
        }
        assert_eq!(open(&key, &sealed[..OVERHEAD - 1], b""), Err(Sm4Error::TooShort));
        let empty = seal(&key, b"", b"");
        assert_eq!(open(&key, &empty, b"").unwrap(), b"");
    }
}
