//! SM2 (GB/T 32918) signatures for the e-card issuer keys.
//!
//! Signatures use the default distinguishing ID [`DEFAULT_DIST_ID`] so that
//! OpenSSL 3 verifies them with `-pkeyopt distid:1234567812345678`.
//!
//! Signing follows GB/T 32918.2 §6.1 with the per-key constant `(1 + d)^-1`
//! computed once, and a hedged nonce: `k = HMAC-SM3(d, fresh OS randomness ||
//! e || counter)` (rejection-sampled into `[1, n-1]`), so a weak or failed OS
//! random source still gives distinct nonces for distinct messages. `[k]G`
//! uses the constant-time precomputed generator table of the `sm2` crate.
//!
//! A [`VerifyingKey`] precomputes the identity hash `Z` when it is built and,
//! on first use (or [`VerifyingKey::precompute`]), a table of multiples of its
//! point, so that `[s]G + [t]P` needs about 40 point additions, no
//! doublings and no field inversion (see `ecc.rs`). Parse a key once and
//! verify many signatures with it; clones share the table.

use std::sync::{Arc, OnceLock};

use ::sm2::dsa;
use ::sm2::elliptic_curve::Generate as _;
use ::sm2::elliptic_curve::common::getrandom::SysRng;
use ::sm2::elliptic_curve::ff::PrimeField as _;
use ::sm2::elliptic_curve::group::Group as _;
use ::sm2::elliptic_curve::ops::Reduce as _;
use ::sm2::elliptic_curve::point::AffineCoordinates as _;
use ::sm2::elliptic_curve::rand_core::TryRng as _;
use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::elliptic_curve::zeroize::{Zeroize as _, Zeroizing};
use ::sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use ::sm2::{FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar, SecretKey};

use crate::ecc::FixedBaseTable;
use crate::sm3::{HmacSm3Key, Sm3Hasher};

/// The distinguishing ID used for every signature ("1234567812345678").
pub const DEFAULT_DIST_ID: &str = "1234567812345678";

/// Length of a raw `r || s` signature.
pub const SIGNATURE_LEN: usize = 64;

/// Curve coefficient `a` (= p - 3), big-endian.
const CURVE_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
/// Curve coefficient `b`, big-endian.
const CURVE_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("bad hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

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
    d: NonZeroScalar,
    /// `(1 + d)^-1 mod n`.
    d1_inv: Scalar,
    verifying: VerifyingKey,
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.d1_inv.zeroize();
        self.d.zeroize();
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("public", &self.verifying).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key pair from the OS random source.
    ///
    /// # Panics
    /// If the operating system random source fails.
    pub fn generate() -> Self {
        loop {
            let sk = SecretKey::generate();
            // GB/T 32918.1 wants d in [1, n-2]: d = n-1 has no (1+d)^-1.
            if let Some(k) = Self::from_secret(&sk) {
                return k;
            }
        }
    }

    fn from_secret(sk: &SecretKey) -> Option<Self> {
        let d = sk.to_nonzero_scalar();
        let d1_inv = Option::<Scalar>::from((*d + Scalar::ONE).invert())?;
        let public = sk.public_key();
        Some(Self { d, d1_inv, verifying: VerifyingKey::from_public(public) })
    }

    /// Parse a PKCS#8 PEM (`BEGIN PRIVATE KEY`) or SEC1 PEM (`BEGIN EC PRIVATE KEY`) private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Sm2Error> {
        let sk = SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| SecretKey::from_sec1_pem(pem))
            .map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Self::from_secret(&sk).ok_or(Sm2Error::InvalidPrivateKey)
    }

    /// Parse a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let sk = SecretKey::from_pkcs8_der(der).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Self::from_secret(&sk).ok_or(Sm2Error::InvalidPrivateKey)
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
        let doc =
            self.secret_key().to_pkcs8_der().unwrap_or_else(|_| unreachable!("encoding a valid SM2 key cannot fail"));
        Zeroizing::new(doc.as_bytes().to_vec())
    }

    /// The 32-byte private scalar (big-endian).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.d.to_repr().into())
    }

    /// A key pair from a 32-byte big-endian private scalar in `[1, n-2]`.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        if bytes.len() != 32 {
            return Err(Sm2Error::InvalidPrivateKey);
        }
        let sk = SecretKey::from_slice(bytes).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Self::from_secret(&sk).ok_or(Sm2Error::InvalidPrivateKey)
    }

    fn secret_key(&self) -> SecretKey {
        SecretKey::from(&self.d)
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// Sign `msg`: 64-byte `r || s`.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut rnd = Zeroizing::new([0u8; 32]);
        // On failure `rnd` stays zero and the nonce is deterministic, which is still safe.
        let _ = SysRng.try_fill_bytes(&mut *rnd);
        self.sign_with_entropy(msg, &rnd)
    }

    /// Sign `msg`: ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (what OpenSSL uses).
    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        let raw = self.sign(msg);
        signature_to_der(&raw).unwrap_or_else(|_| unreachable!("our r and s are in range"))
    }

    /// Sign `msg` without fresh randomness: the same key and message always
    /// give the same signature (the nonce is still secret, derived from the key).
    pub fn sign_deterministic(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.sign_with_entropy(msg, &[0u8; 32])
    }

    fn sign_with_entropy(&self, msg: &[u8], rnd: &[u8; 32]) -> [u8; SIGNATURE_LEN] {
        let e_bytes = self.verifying.digest(msg);
        let e = <Scalar as ::sm2::elliptic_curve::ops::Reduce<FieldBytes>>::reduce(&e_bytes);
        let d = *self.d;
        let d_bytes = Zeroizing::new(d.to_repr());
        let prf = HmacSm3Key::new(&d_bytes);
        let mut counter: u32 = 0;
        loop {
            counter = counter.wrapping_add(1);
            let k_bytes = Zeroizing::new(prf.mac(&[b"sscard-gm/sm2-k\0", rnd, &e_bytes, &counter.to_be_bytes()]));
            let Some(mut k) = Option::<Scalar>::from(Scalar::from_repr((*k_bytes).into())) else {
                continue;
            };
            if bool::from(k.is_zero()) {
                continue;
            }
            let x1 = ProjectivePoint::mul_by_generator(&k).to_affine().x();
            let r = e + Scalar::reduce(&x1);
            if bool::from(r.is_zero()) || bool::from((r + k).is_zero()) {
                k.zeroize();
                continue;
            }
            let s = self.d1_inv * (k - r * d);
            k.zeroize();
            if bool::from(s.is_zero()) {
                continue;
            }
            let mut out = [0u8; SIGNATURE_LEN];
            out[..32].copy_from_slice(&r.to_repr());
            out[32..].copy_from_slice(&s.to_repr());
            return out;
        }
    }
}

/// An SM2 public key ready to verify signatures (parse once, verify many).
#[derive(Clone)]
pub struct VerifyingKey {
    public: PublicKey,
    /// SM3 state after absorbing `Z`.
    z_prefix: Sm3Hasher,
    /// Multiples of the point, built on first verification.
    table: Arc<OnceLock<FixedBaseTable>>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({})", hex_upper(&self.to_sec1_bytes()))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
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
    fn from_public(public: PublicKey) -> Self {
        // Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2 §5.5.
        let mut z = Sm3Hasher::new();
        let entl = u16::try_from(DEFAULT_DIST_ID.len() * 8).unwrap_or(u16::MAX);
        z.update(&entl.to_be_bytes());
        z.update(DEFAULT_DIST_ID.as_bytes());
        z.update(&CURVE_A);
        z.update(&CURVE_B);
        let g = ::sm2::AffinePoint::GENERATOR.to_sec1_point(false);
        z.update(&g.as_bytes()[1..]);
        let p = public.as_affine().to_sec1_point(false);
        z.update(&p.as_bytes()[1..]);
        let mut z_prefix = Sm3Hasher::new();
        z_prefix.update(&z.finalize());
        Self { public, z_prefix, table: Arc::new(OnceLock::new()) }
    }

    /// Parse a SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub fn from_spki_pem(pem: &str) -> Result<Self, Sm2Error> {
        let pk = PublicKey::from_public_key_pem(pem).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Ok(Self::from_public(pk))
    }

    /// Parse a SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let pk = PublicKey::from_public_key_der(der).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Ok(Self::from_public(pk))
    }

    /// Parse a SEC1 point (`04 || x || y`, or compressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let pk = PublicKey::from_sec1_bytes(bytes).map_err(|_| Sm2Error::InvalidPublicKey)?;
        Ok(Self::from_public(pk))
    }

    /// The key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`, LF line endings).
    pub fn to_spki_pem(&self) -> String {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 point cannot fail"))
    }

    /// The key as SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.public
            .to_public_key_der()
            .unwrap_or_else(|_| unreachable!("encoding a valid SM2 point cannot fail"))
            .into_vec()
    }

    /// The uncompressed SEC1 point (65 bytes).
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.public.to_sec1_bytes().into_vec()
    }

    /// Build the verification table now (about 100 ms and 5.2 MB here)
    /// instead of on the first verification. Clones share it.
    pub fn precompute(&self) {
        self.table();
    }

    fn table(&self) -> &FixedBaseTable {
        self.table.get_or_init(|| FixedBaseTable::new(self.public.as_affine()))
    }

    /// `e = SM3(Z || msg)`.
    fn digest(&self, msg: &[u8]) -> FieldBytes {
        let mut h = self.z_prefix.clone();
        h.update(msg);
        h.finalize().into()
    }

    /// Verify a 64-byte `r || s` signature over `msg`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<(), Sm2Error> {
        let sig = dsa::Signature::from_slice(signature).map_err(|_| Sm2Error::MalformedSignature)?;
        self.verify_sig(msg, &sig)
    }

    /// Verify a DER signature over `msg`.
    pub fn verify_der(&self, msg: &[u8], der: &[u8]) -> Result<(), Sm2Error> {
        let sig = dsa::Signature::from_der(der).map_err(|_| Sm2Error::MalformedSignature)?;
        self.verify_sig(msg, &sig)
    }

    /// GB/T 32918.2 §7.1 (r and s are in `[1, n-1]` by construction of `sig`).
    fn verify_sig(&self, msg: &[u8], sig: &dsa::Signature) -> Result<(), Sm2Error> {
        let (r, s) = sig.split_scalars();
        let e = <Scalar as ::sm2::elliptic_curve::ops::Reduce<FieldBytes>>::reduce(&self.digest(msg));
        let t = *r + *s;
        if bool::from(t.is_zero()) {
            return Err(Sm2Error::BadSignature);
        }
        // R = [s]G + [t]P must not be the identity and r == e + x(R) mod n.
        if crate::ecc::lincomb_x_matches(&s, self.table(), &t, &(*r - e)) {
            Ok(())
        } else {
            Err(Sm2Error::BadSignature)
        }
    }

    /// The `sm2` crate's own verifier (constant-time arithmetic, no tables),
    /// kept as the reference the fast path is tested against.
    #[doc(hidden)]
    pub fn verify_reference(&self, msg: &[u8], signature: &[u8]) -> Result<(), Sm2Error> {
        use ::sm2::dsa::signature::Verifier as _;
        let sig = dsa::Signature::from_slice(signature).map_err(|_| Sm2Error::MalformedSignature)?;
        let vk = dsa::VerifyingKey::new(DEFAULT_DIST_ID, self.public).map_err(|_| Sm2Error::InvalidPublicKey)?;
        vk.verify(msg, &sig).map_err(|_| Sm2Error::BadSignature)
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
        assert_eq!(vk.verify(b"hello", &sig[..63]), Err(Sm2Error::MalformedSignature));
        assert_eq!(vk.verify(b"hello", &[0u8; 64]), Err(Sm2Error::MalformedSignature));
        assert_eq!(vk.verify_der(b"hello", &sig), Err(Sm2Error::MalformedSignature));
        assert_eq!(signature_from_der(&signature_to_der(&sig).unwrap()).unwrap(), sig);
        // Hedged signing: two signatures differ, both verify.
        assert_ne!(k.sign(b"m"), k.sign(b"m"));
        assert_eq!(k.sign_deterministic(b"m"), k.sign_deterministic(b"m"));
        vk.verify(b"m", &k.sign_deterministic(b"m")).unwrap();
        let other = SigningKey::generate();
        assert_eq!(other.verifying_key().verify(b"hello", &sig), Err(Sm2Error::BadSignature));
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
        assert_eq!(VerifyingKey::from_sec1_bytes(&vk.to_sec1_bytes()).unwrap(), vk);
        vk.verify(b"x", &k.sign(b"x")).unwrap();

        assert_eq!(SigningKey::from_pkcs8_pem("nope").err(), Some(Sm2Error::InvalidPrivateKey));
        assert_eq!(SigningKey::from_pkcs8_pem(&pub_pem).err(), Some(Sm2Error::InvalidPrivateKey));
        assert_eq!(VerifyingKey::from_spki_pem(&pem).err(), Some(Sm2Error::InvalidPublicKey));
        assert_eq!(SigningKey::from_secret_bytes(&[0u8; 32]).err(), Some(Sm2Error::InvalidPrivateKey));
        assert_eq!(SigningKey::from_secret_bytes(&[1u8; 31]).err(), Some(Sm2Error::InvalidPrivateKey));
        assert_eq!(VerifyingKey::from_sec1_bytes(&[4u8; 65]).err(), Some(Sm2Error::InvalidPublicKey));
    }

    /// The table-based verifier and the `sm2` crate's verifier agree, on
    /// valid signatures (ours and the crate's) and on damaged ones.
    #[test]
    fn fast_path_agrees_with_reference() {
        use ::sm2::dsa::signature::Signer as _;
        for _ in 0..8 {
            let k = SigningKey::generate();
            let vk = k.verifying_key();
            let crate_key = dsa::SigningKey::from_slice(DEFAULT_DIST_ID, &*k.to_secret_bytes()).unwrap();
            for len in [0usize, 1, 45, 64, 200] {
                let msg: Vec<u8> = crate::rand::random_bytes::<200>()[..len].to_vec();
                let ours = k.sign(&msg);
                let theirs: dsa::Signature = crate_key.sign(&msg);
                let theirs: [u8; 64] = theirs.to_bytes().into();
                for sig in [ours, theirs] {
                    assert_eq!(vk.verify(&msg, &sig), Ok(()));
                    assert_eq!(vk.verify_reference(&msg, &sig), Ok(()));
                    for i in [0usize, 17, 31, 32, 50, 63] {
                        let mut bad = sig;
                        bad[i] ^= 1 << (i % 8);
                        assert_eq!(vk.verify(&msg, &bad), vk.verify_reference(&msg, &bad), "byte {i}");
                        assert!(vk.verify(&msg, &bad).is_err());
                    }
                    let mut other = msg.clone();
                    other.push(0);
                    assert_eq!(vk.verify(&other, &sig), Err(Sm2Error::BadSignature));
                    assert_eq!(vk.verify_reference(&other, &sig), Err(Sm2Error::BadSignature));
                }
            }
            // Random garbage signatures.
            for _ in 0..16 {
                let sig = crate::rand::random_bytes::<64>();
                assert_eq!(vk.verify(b"m", &sig), vk.verify_reference(b"m", &sig));
            }
            // r + s = n (t = 0) is refused by both.
            let mut rs = [0u8; 64];
            rs[..32].copy_from_slice(&Scalar::ONE.to_repr());
            rs[32..].copy_from_slice(&(-Scalar::ONE).to_repr());
            assert_eq!(vk.verify(b"m", &rs), Err(Sm2Error::BadSignature));
            assert_eq!(vk.verify_reference(b"m", &rs), Err(Sm2Error::BadSignature));
        }
    }

    /// A fixed private key and message give a fixed deterministic signature
    /// that the crate (and so OpenSSL) accepts.
    #[test]
    fn deterministic_signature_is_stable_and_valid() {
        let k = SigningKey::from_secret_bytes(&[0x42; 32]).unwrap();
        let a = k.sign_deterministic(b"abc");
        assert_eq!(a, k.sign_deterministic(b"abc"));
        assert_ne!(a, k.sign_deterministic(b"abd"));
        k.verifying_key().verify_reference(b"abc", &a).unwrap();
    }

    #[test]
    fn debug_hides_secret() {
        let k = SigningKey::generate();
        let dbg = format!("{k:?}");
        let secret_hex = hex::encode(*k.to_secret_bytes());
        assert!(!dbg.to_lowercase().contains(&secret_hex));
    }
}
