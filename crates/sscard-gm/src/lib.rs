//! Chinese national ("GM") cryptography for sscard.
//!
//! * [`sm3`]: SM3 hashing (GB/T 32905) and HMAC-SM3.
//! * [`password`]: PBKDF2-HMAC-SM3 password hashes.
//! * [`rand`]: OS randomness helpers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod password;
pub mod rand;
pub mod sm3;
