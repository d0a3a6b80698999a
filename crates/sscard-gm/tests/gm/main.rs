//! sscard-gm tested from outside the crate, one test binary: the fast verifier against the
//! plain one, offline verification, and interoperability with OpenSSL.
#![allow(clippy::too_many_lines)]

mod fast_verify;
mod offline;
mod offline_props;
mod openssl_interop;
