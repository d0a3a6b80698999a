//! SM2 (GB/T 32918) signatures for the e-card issuer keys.
//!
//! Signatures use the default distinguishing ID [`DEFAULT_DIST_ID`] so that
//! OpenSSL 3 verifies them with `-pkeyopt distid:1234567812345678`. Signing is
//! hedged: the RFC 6979 nonce derivation is mixed with fresh OS randomness
//! (falling back to the purely deterministic nonce if the OS source fails).
//!
//! A [`VerifyingKey`] precomputes the identity hash `Z` when it is built, so
//! parse a key once and verify many signatures with it.

use ::sm2::dsa;
use ::sm2::dsa::signature::{RandomizedSigner as _, Signer as _, Verifier as _};
use ::sm2::elliptic_curve::Generate as _;
use ::sm2::elliptic_curve::common::getrandom::SysRng;
use ::sm2::elliptic_curve::zeroize::Zeroizing;
use ::sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};

/// The distinguishing ID used for every signature ("1234567812345678").
pub const DEFAULT_DIST_ID: &str = "1234567812345678";

/// Length of a raw `r || s` signature.
pub const SIGNATURE_LEN: usize = 64;

/// SM2 key and signature errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Sm2Error {
    /// The private key could not be parsed (bad PEM/DER or out-of-range scalar).
    #[error("invalid SM2 private key")]
    InvalidPrivateKey,
    /// The public key could not be parsed (bad PEM/DER or not a curve point).
    #[error("invalid SM2 public key")]
    InvalidPublicKey,
    /// The signature is not a valid encoding (wrong length, bad DER, r or s out of range).
    #[error("malformed SM2 signature")]
    MalformedSignature,
    /// The signature is well formed but does not verify.
    #[error("SM2 signature does not verify")]
    BadSignature,
}

/// An SM2 issuer key pair (private key plus its public key).
#[derive(Clone)]
pub struct SigningKey {
    inner: dsa::SigningKey,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.verifying)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key pair from the OS random source.
    ///
    /// # Panics
    /// If the operating system random source fails.
    pub fn generate() -> Self {
        let sk = ::sm2::SecretKey::generate();
        Self::from_secret(&sk)
    }

    fn from_secret(sk: &::sm2::SecretKey) -> Self {
        let inner = dsa::SigningKey::new(DEFAULT_DIST_ID, sk)
            .unwrap_or_else(|_| unreachable!("a valid secret key with a short distid"));
        let verifying = VerifyingKey::from_dsa(inner.verifying_key().clone());
        Self { inner, verifying }
    }

    /// Parse a PKCS#8 PEM (`BEGIN PRIVATE KEY`) or SEC1 PEM (`BEGIN EC PRIVATE KEY`) private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Sm2Error> {
        let sk = ::sm2::SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| ::sm2::SecretKey::from_sec1_pem(pem))
            .map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Ok(Self::from_secret(&sk))
    }

    /// Parse a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let sk = ::sm2::SecretKey::from_pkcs8_der(der).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Ok(Self::from_secret(&sk))
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`, LF line endings).
    /// Store it encrypted (see [`crate::sm4`]), never in plain text.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        self.secret_key()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 key cannot fail"))
    }

    /// The private key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let doc = self
            .secret_key()
            .to_pkcs8_der()
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 key cannot fail"));
        Zeroizing::new(doc.as_bytes().to_vec())
    }

    /// The 32-byte private scalar (big-endian).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.inner.to_bytes().into())
    }

    /// A key pair from a 32-byte big-endian private scalar in `[1, n-1]`.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let sk = ::sm2::SecretKey::from_slice(bytes).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        if bytes.len() != 32 {
            return Err(Sm2Error::InvalidPrivateKey);
        }
        Ok(Self::from_secret(&sk))
    }

    fn secret_key(&self) -> ::sm2::SecretKey {
        ::sm2::SecretKey::from(self.inner.as_nonzero_scalar())
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// Sign `msg`: 64-byte `r || s`.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.sign_inner(msg).to_bytes().into()
    }

    /// Sign `msg`: ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (what OpenSSL uses).
    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        self.sign_inner(msg).to_der().to_vec()
    }

    /// Sign `msg` with the purely deterministic (RFC 6979-style) nonce: the
    /// same key and message always give the same signature.
    pub fn sign_deterministic(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let sig: dsa::Signature = self.inner.sign(msg);
        sig.to_bytes().into()
    }

    fn sign_inner(&self, msg: &[u8]) -> dsa::Signature {
        match self.inner.try_sign_with_rng(&mut SysRng, msg) {
            Ok(sig) => sig,
            Err(_) => self.inner.sign(msg),
        }
    }
}

/// An SM2 public key ready to verify signatures (parse once, verify many).
#[derive(Clone)]
pub struct VerifyingKey {
    inner: dsa::VerifyingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({})", hex_upper(&self.to_sec1_bytes()))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner.as_affine() == other.inner.as_affine()
    }
}
impl Eq for VerifyingKey {}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

impl VerifyingKey {
    fn from_dsa(inner: dsa::VerifyingKey) -> Self {
        Self { inner }
    }

    fn from_public(pk: ::sm2::PublicKey) -> Result<Self, Sm2Error> {
        let inner =
            dsa::VerifyingKey::new(DEFAULT_DIST_ID, pk).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Ok(Self::from_dsa(inner))
    }

    /// Parse a SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub fn from_spki_pem(pem: &str) -> Result<Self, Sm2Error> {
        let pk =
            ::sm2::PublicKey::from_public_key_pem(pem).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Self::from_public(pk)
    }

    /// Parse a SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let pk =
            ::sm2::PublicKey::from_public_key_der(der).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Self::from_public(pk)
    }

    /// Parse a SEC1 point (`04 || x || y`, or compressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let pk =
            ::sm2::PublicKey::from_sec1_bytes(bytes).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Self::from_public(pk)
    }

    /// The key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`, LF line endings).
    pub fn to_spki_pem(&self) -> String {
        ::sm2::PublicKey::from(&self.inner)
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 point cannot fail"))
    }

    /// The key as SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Vec<u8> {
        ::sm2::PublicKey::from(&self.inner)
            .to_public_key_der()
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 point cannot fail"))
            .into_vec()
    }

    /// The uncompressed SEC1 point (65 bytes).
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.inner.to_sec1_bytes().into_vec()
    }

    /// Verify a 64-byte `r || s` signature over `msg`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<(), Sm2Error> {
        let sig =
            dsa::Signature::from_slice(signature).map_err(|_| Sm2Error::MalformedSignature)?;
        self.verify_sig(msg, &sig)
    }

    /// Verify a DER signature over `msg`.
    pub fn verify_der(&self, msg: &[u8], der: &[u8]) -> Result<(), Sm2Error> {
        let sig = dsa::Signature::from_der(der).map_err(|_| Sm2Error::MalformedSignature)?;
        self.verify_sig(msg, &sig)
    }

    fn verify_sig(&self, msg: &[u8], sig: &dsa::Signature) -> Result<(), Sm2Error> {
        self.inner
            .verify(msg, sig)
            .map_err(|_| Sm2Error::BadSignature)
    }
}

/// Convert a 64-byte `r || s` signature to DER.
pub fn signature_to_der(raw: &[u8]) -> Result<Vec<u8>, Sm2Error> {
    let sig = dsa::Signature::from_slice(raw).map_err(|_| Sm2Error::MalformedSignature)?;
    Ok(sig.to_der().to_vec())
}

/// Convert a DER signature to 64-byte `r || s`.
pub fn signature_from_der(der: &[u8]) -> Result<[u8; SIGNATURE_LEN], Sm2Error> {
    let sig = dsa::Signature::from_der(der).map_err(|_| Sm2Error::MalformedSignature)?;
    Ok(sig.to_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_roundtrip() {
        let k = SigningKey::generate();
        let vk = k.verifying_key();
        let sig = k.sign(b"hello");
        vk.verify(b"hello", &sig).unwrap();
        assert_eq!(vk.verify(b"hellO", &sig), Err(Sm2Error::BadSignature));
        let der = k.sign_der(b"hello");
        vk.verify_der(b"hello", &der).unwrap();
        assert_eq!(vk.verify_der(b"x", &der), Err(Sm2Error::BadSignature));
        assert_eq!(
            vk.verify(b"hello", &sig[..63]),
            Err(Sm2Error::MalformedSignature)
        );
        assert_eq!(
            vk.verify(b"hello", &[0u8; 64]),
            Err(Sm2Error::MalformedSignature)
        );
        assert_eq!(
            vk.verify_der(b"hello", &sig),
            Err(Sm2Error::MalformedSignature)
        );
        assert_eq!(
            signature_from_der(&signature_to_der(&sig).unwrap()).unwrap(),
            sig
        );
        // Hedged signing: two signatures differ, both verify.
        assert_ne!(k.sign(b"m"), k.sign(b"m"));
        assert_eq!(k.sign_deterministic(b"m"), k.sign_deterministic(b"m"));
        vk.verify(b"m", &k.sign_deterministic(b"m")).unwrap();
        let other = SigningKey::generate();
        assert_eq!(
            other.verifying_key().verify(b"hello", &sig),
            Err(Sm2Error::BadSignature)
        );
    }

    #[test]
    fn pem_roundtrip() {
        let k = SigningKey::generate();
        let pem = k.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let k2 = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(k2.verifying_key(), k.verifying_key());
        let k3 = SigningKey::from_pkcs8_der(&k.to_pkcs8_der()).unwrap();
        assert_eq!(k3.verifying_key(), k.verifying_key());
        let k4 = SigningKey::from_secret_bytes(&*k.to_secret_bytes()).unwrap();
        assert_eq!(k4.verifying_key(), k.verifying_key());

        let pub_pem = k.verifying_key().to_spki_pem();
        assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let vk = VerifyingKey::from_spki_pem(&pub_pem).unwrap();
        assert_eq!(&vk, k.verifying_key());
        assert_eq!(VerifyingKey::from_spki_der(&vk.to_spki_der()).unwrap(), vk);
        assert_eq!(
            VerifyingKey::from_sec1_bytes(&vk.to_sec1_bytes()).unwrap(),
            vk
        );
        vk.verify(b"x", &k.sign(b"x")).unwrap();

        assert_eq!(
            SigningKey::from_pkcs8_pem("nope").err(),
            Some(Sm2Error::InvalidPrivateKey)
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pub_pem).err(),
            Some(Sm2Error::InvalidPrivateKey)
        );
        assert_eq!(
            VerifyingKey::from_spki_pem(&pem).err(),
            Some(Sm2Error::InvalidPublicKey)
        );
        assert_eq!(
            SigningKey::from_secret_bytes(&[0u8; 32]).err(),
            Some(Sm2Error::InvalidPrivateKey)
        );
        assert_eq!(
            SigningKey::from_secret_bytes(&[1u8; 31]).err(),
            Some(Sm2Error::InvalidPrivateKey)
        );
        assert_eq!(
            VerifyingKey::from_sec1_bytes(&[4u8; 65]).err(),
            Some(Sm2Error::InvalidPublicKey)
        );
    }

    #[test]
    fn debug_hides_secret() {
        let k = SigningKey::generate();
        let dbg = format!("{k:?}");
        let secret_hex = hex::encode(*k.to_secret_bytes());
        assert!(!dbg.to_lowercase().contains(&secret_hex));
    }
}
