//! Fixed-base scalar multiplication tables for SM2 verification.
//!
//! Verification computes `[s]G + [t]P` for a public signature and a public
//! key, so variable time is fine there. For a point `B` fixed in advance (the
//! generator, or an issuer key that verifies millions of tokens) we store the
//! affine multiples `j * 2^(W*i) * B` for `j = 1..=2^(W-1)` and every window
//! `i`; a multiplication is then one mixed addition per signed `W`-bit digit
//! and no doublings at all. With `W = 8` that is 33 additions per scalar,
//! against about 256 doublings and 64 additions for a plain multiplication.
//!
//! The tables cost `33 * 128` affine points (about 300 KB) per base point and
//! a few milliseconds to build, so they are for the few long-lived issuer
//! keys, not for one-off verifications. Nothing here is used with secrets.

use std::sync::LazyLock;

use ::sm2::elliptic_curve::ff::PrimeField as _;
use ::sm2::elliptic_curve::group::{Curve as _, Group as _};
use ::sm2::{AffinePoint, ProjectivePoint, Scalar};

/// Window width in bits.
const W: usize = 8;
/// Multiples stored per window: digits are in `-HALF..=HALF`.
const HALF: usize = 1 << (W - 1);
/// Windows needed for a 256-bit scalar plus the final carry.
const WINDOWS: usize = 256 / W + 1;

/// Precomputed multiples of one base point.
pub(crate) struct FixedBaseTable {
    /// `points[i * HALF + (j - 1)] = j * 2^(W*i) * B`.
    points: Vec<AffinePoint>,
}

impl std::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedBaseTable({} points)", self.points.len())
    }
}

impl FixedBaseTable {
    /// Build the table for `base`.
    pub(crate) fn new(base: &AffinePoint) -> Self {
        let mut proj = Vec::with_capacity(WINDOWS * HALF);
        let mut window_base = ProjectivePoint::from(*base);
        for _ in 0..WINDOWS {
            let mut acc = window_base;
            for _ in 0..HALF {
                proj.push(acc);
                acc += &window_base;
            }
            // acc = (HALF + 1) * window_base; the next window's base is 2^W * window_base.
            window_base = proj[proj.len() - 1].double();
        }
        let mut points = vec![AffinePoint::IDENTITY; proj.len()];
        ProjectivePoint::batch_normalize(&proj, &mut points);
        Self { points }
    }

    /// Add `[k] B` to `acc`, in variable time (public `k` only).
    pub(crate) fn mul_add_vartime(&self, acc: &mut ProjectivePoint, k: &Scalar) {
        let digits = recode(k);
        for (i, &d) in digits.iter().enumerate() {
            if d > 0 {
                *acc += &self.points[i * HALF + (d as usize - 1)];
            } else if d < 0 {
                *acc -= &self.points[i * HALF + (d.unsigned_abs() as usize - 1)];
            }
        }
    }
}

/// Table of the SM2 generator, built on first use.
pub(crate) static G_TABLE: LazyLock<FixedBaseTable> =
    LazyLock::new(|| FixedBaseTable::new(&AffinePoint::GENERATOR));

/// `[a]G + [b]P` for a table of `P`, in variable time.
pub(crate) fn mul_g_add_vartime(a: &Scalar, p: &FixedBaseTable, b: &Scalar) -> ProjectivePoint {
    let mut acc = ProjectivePoint::IDENTITY;
    G_TABLE.mul_add_vartime(&mut acc, a);
    p.mul_add_vartime(&mut acc, b);
    acc
}

/// Signed base-2^W digits of `k`, least significant first:
/// `k = sum(d_i * 2^(W*i))` with every `d_i` in `-HALF..=HALF`.
fn recode(k: &Scalar) -> [i16; WINDOWS] {
    let be = k.to_repr();
    let mut le = [0u8; 32];
    for (d, s) in le.iter_mut().zip(be.iter().rev()) {
        *d = *s;
    }
    let mut out = [0i16; WINDOWS];
    let mut carry: i16 = 0;
    for (i, o) in out.iter_mut().enumerate() {
        // W = 8: one byte per window.
        let byte = if i < 32 { i16::from(le[i]) } else { 0 };
        let mut d = byte + carry;
        if d > HALF as i16 {
            d -= 1 << W;
            carry = 1;
        } else {
            carry = 0;
        }
        *o = d;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::sm2::elliptic_curve::Field as _;
    use ::sm2::elliptic_curve::ops::Reduce as _;

    fn scalar(bytes: [u8; 32]) -> Scalar {
        Scalar::reduce(&::sm2::FieldBytes::from(bytes))
    }

    #[test]
    fn recode_reconstructs() {
        for k in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            scalar([0x80; 32]),
            scalar([0xFF; 32]),
            scalar([0x7F; 32]),
            scalar(crate::rand::random_bytes()),
        ] {
            let d = recode(&k);
            let mut acc = Scalar::ZERO;
            let base = Scalar::from(256u64);
            for &di in d.iter().rev() {
                assert!(di.unsigned_abs() as usize <= HALF);
                acc *= base;
                if di >= 0 {
                    acc += Scalar::from(di as u64);
                } else {
                    acc -= Scalar::from(di.unsigned_abs() as u64);
                }
            }
            assert_eq!(acc, k);
        }
    }

    #[test]
    fn table_mul_matches_plain() {
        let p = (ProjectivePoint::GENERATOR * scalar(crate::rand::random_bytes())).to_affine();
        let table = FixedBaseTable::new(&p);
        for k in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            scalar([0x80; 32]),
            scalar([0xFF; 32]),
            Scalar::random(&mut ::sm2::elliptic_curve::rand_core::UnwrapErr(
                ::sm2::elliptic_curve::common::getrandom::SysRng,
            )),
        ] {
            let mut acc = ProjectivePoint::IDENTITY;
            table.mul_add_vartime(&mut acc, &k);
            assert_eq!(acc, ProjectivePoint::from(p) * k);
            let mut g = ProjectivePoint::IDENTITY;
            G_TABLE.mul_add_vartime(&mut g, &k);
            assert_eq!(g, ProjectivePoint::GENERATOR * k);
            assert_eq!(
                mul_g_add_vartime(&k, &table, &k),
                (ProjectivePoint::GENERATOR + ProjectivePoint::from(p)) * k
            );
        }
    }
}
