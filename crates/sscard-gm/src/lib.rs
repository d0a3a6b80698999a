//! Chinese national ("GM") cryptography for sscard, and the e-card QR token.
//!
//! * [`sm3`]: SM3 hashing (GB/T 32905) and HMAC-SM3.
//! * [`sm2`]: SM2 signatures (GB/T 32918) for issuer keys.
//! * [`sm4`]: SM4-GCM (GB/T 32907, RFC 8998) for data at rest.
//! * [`kdf`]: the SM3 KDF (GB/T 32918.4) and SM4 key derivation from the master key.
//! * [`password`]: PBKDF2-HMAC-SM3 password hashes.
//! * [`rand`]: OS randomness helpers.
//! * [`token`]: the e-card QR token v1: encode, decode, sign.
//! * [`offline`]: the offline verifier terminals embed (keys, expiry, revocations).
//! * [`revocations`]: the compact set of revoked e-cards the offline verifier checks.
//! * [`vault`]: the data keys and blind index for personal data at rest.
//! * [`bench`](mod@bench): a plain timing loop for `sscard bench crypto`.
//!
//! No I/O happens in this crate (the OpenSSL interop lives in the tests).
//! Measured against OpenSSL 3 with `crates/sscard-gm/bench-vs-openssl.sh`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
mod ecc;
pub mod kdf;
pub mod offline;
pub mod password;
pub mod rand;
pub mod revocations;
pub mod sm2;
pub mod sm3;
pub mod sm4;
pub mod token;
pub mod vault;

pub use ::sm2::elliptic_curve::zeroize::Zeroizing;
