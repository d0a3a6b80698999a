//! Fixed-base scalar multiplication tables for SM2 verification.
//!
//! Verification computes `[s]G + [t]P` for a public signature and a public
//! key, so variable time is fine there. For a point `B` fixed in advance (the
//! generator, or an issuer key that verifies millions of tokens) we store the
//! affine multiples `j * 2^(W*i) * B` for `j = 1..=2^(W-1)` and every window
//! `i`; a multiplication is then one mixed addition per signed `W`-bit digit
//! and no doublings at all. With `W = 13` that is 20 additions per scalar,
//! against about 256 doublings and 64 additions for a plain multiplication.
//! (Measured with `sscard bench crypto` on one machine, one run each: W = 8
//! verified 43,000 tokens/s, W = 12 61,000 and W = 13 66,500.)
//!
//! The sum is accumulated in Jacobian coordinates with the classic mixed
//! addition (8M + 3S) over the `sm2` crate's field element type, and the
//! final check `x(R) mod n == r - e` is done projectively (`X == x * Z^2`),
//! so a verification needs no field inversion. The tables are built with the
//! crate's own (complete-formula) point arithmetic; the tests check the
//! result against the crate's scalar multiplication.
//!
//! The tables cost `20 * 4096` affine points (about 5.2 MB) per base point and
//! about 100 ms to build, so they are for the few long-lived issuer keys. Nothing here may be used with secret scalars: it is variable-time.

use std::sync::LazyLock;

use ::sm2::elliptic_curve::ff::PrimeField as _;
use ::sm2::elliptic_curve::group::{Curve as _, Group as _};
use ::sm2::elliptic_curve::hazmat::FieldArithmetic;
use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, Sm2};

/// The SM2 base field element (Montgomery form, always canonical).
type Fe = <Sm2 as FieldArithmetic>::FieldElement;

/// Window width in bits.
const W: usize = 13;
/// Multiples stored per window: digits are in `-HALF..=HALF`.
const HALF: usize = 1 << (W - 1);
/// Windows needed for a 256-bit scalar plus the final carry.
const WINDOWS: usize = (256 + W) / W;
// The top window holds the last bits of a scalar below 2^256 and the carry, within HALF.
const _: () = assert!(W * WINDOWS > 256 && W <= 14, "the windows cover 256 bits with room for the carry");

/// `p - n` for SM2, big-endian: an `x` coordinate can be `r - e` or `r - e + n`
/// only when `r - e < p - n`.
const P_MINUS_N: [u8; 32] = {
    let mut b = [0u8; 32];
    let hi: u128 = 0x8dfc2093de39fad5ac440bf6c62abedc;
    let bytes = hi.to_be_bytes();
    let mut i = 0;
    while i < 16 {
        b[16 + i] = bytes[i];
        i += 1;
    }
    b
};

/// An affine point with both coordinates as field elements.
#[derive(Clone, Copy)]
struct Affine {
    x: Fe,
    y: Fe,
}

/// Precomputed multiples of one base point.
pub(crate) struct FixedBaseTable {
    /// `points[i * HALF + (j - 1)] = j * 2^(W*i) * B`.
    points: Vec<Affine>,
}

impl std::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedBaseTable({} points)", self.points.len())
    }
}

fn fe(bytes: &[u8]) -> Fe {
    let mut repr = FieldBytes::default();
    repr.copy_from_slice(bytes);
    Option::from(Fe::from_repr(repr)).unwrap_or_else(|| unreachable!("coordinates are below p"))
}

impl FixedBaseTable {
    /// Build the table for `base` (which must not be the identity).
    pub(crate) fn new(base: &AffinePoint) -> Self {
        let mut proj = Vec::with_capacity(WINDOWS * HALF);
        let mut window_base = ProjectivePoint::from(*base);
        for _ in 0..WINDOWS {
            let mut acc = window_base;
            for _ in 0..HALF {
                proj.push(acc);
                acc += &window_base;
            }
            // The last entry is HALF * window_base; the next window's base is 2^W * window_base.
            window_base = proj[proj.len() - 1].double();
        }
        let mut affine = vec![AffinePoint::IDENTITY; proj.len()];
        ProjectivePoint::batch_normalize(&proj, &mut affine);
        let points = affine
            .iter()
            .map(|a| {
                // A multiple j * 2^k * B with j <= 128 is never the identity in a group of prime order n.
                let enc = a.to_sec1_point(false);
                let b = enc.as_bytes();
                Affine { x: fe(&b[1..33]), y: fe(&b[33..65]) }
            })
            .collect();
        Self { points }
    }

    /// `acc += [k] B`, in variable time (public `k` only).
    fn mul_add_vartime(&self, acc: &mut Jacobian, k: &Scalar) {
        for (i, &d) in recode(k).iter().enumerate() {
            if d > 0 {
                let p = &self.points[i * HALF + (d as usize - 1)];
                acc.add_affine(&p.x, &p.y);
            } else if d < 0 {
                let p = &self.points[i * HALF + (d.unsigned_abs() as usize - 1)];
                acc.add_affine(&p.x, &-p.y);
            }
        }
    }
}

/// Table of the SM2 generator, built on first use.
static G_TABLE: LazyLock<FixedBaseTable> = LazyLock::new(|| FixedBaseTable::new(&AffinePoint::GENERATOR));

/// A point in Jacobian coordinates `(X/Z^2, Y/Z^3)`, or the identity.
#[derive(Clone, Copy)]
struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
    infinity: bool,
}

impl Jacobian {
    const IDENTITY: Self = Self { x: Fe::ONE, y: Fe::ONE, z: Fe::ZERO, infinity: true };

    /// `self += (x2, y2)` (add-1998-cmo-2 mixed addition, exceptions handled).
    fn add_affine(&mut self, x2: &Fe, y2: &Fe) {
        if self.infinity {
            *self = Self { x: *x2, y: *y2, z: Fe::ONE, infinity: false };
            return;
        }
        let z1z1 = self.z.square();
        let u2 = *x2 * z1z1;
        let s2 = *y2 * self.z * z1z1;
        let h = u2 - self.x;
        let r = s2 - self.y;
        if bool::from(h.is_zero()) {
            if bool::from(r.is_zero()) {
                self.double();
            } else {
                *self = Self::IDENTITY;
            }
            return;
        }
        let hh = h.square();
        let hhh = h * hh;
        let v = self.x * hh;
        let x3 = r.square() - hhh - v.double();
        let y3 = r * (v - x3) - self.y * hhh;
        self.z *= h;
        self.x = x3;
        self.y = y3;
    }

    /// `self = 2 * self` (dbl-2001-b, a = -3).
    fn double(&mut self) {
        if self.infinity {
            return;
        }
        if bool::from(self.y.is_zero()) {
            *self = Self::IDENTITY;
            return;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t.double() + t;
        let beta4 = beta.double().double();
        let x3 = alpha.square() - beta4.double();
        let z3 = (self.y + self.z).square() - gamma - delta;
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha * (beta4 - x3) - gamma2_8;
        self.x = x3;
        self.y = y3;
        self.z = z3;
    }

    #[cfg(test)]
    fn to_sec1(self) -> Option<Vec<u8>> {
        if self.infinity {
            return None;
        }
        let zinv = Option::<Fe>::from(self.z.invert())?;
        let zinv2 = zinv.square();
        let mut out = vec![4u8];
        out.extend_from_slice(&(self.x * zinv2).to_repr());
        out.extend_from_slice(&(self.y * zinv2 * zinv).to_repr());
        Some(out)
    }
}

fn lincomb_vartime(a: &Scalar, p: &FixedBaseTable, b: &Scalar) -> Jacobian {
    let mut acc = Jacobian::IDENTITY;
    G_TABLE.mul_add_vartime(&mut acc, a);
    p.mul_add_vartime(&mut acc, b);
    acc
}

/// Whether `R = [a]G + [b]P` is not the identity and `x(R) mod n == expected`,
/// where `p` is the table of `P`. Variable time: public inputs only.
pub(crate) fn lincomb_x_matches(a: &Scalar, p: &FixedBaseTable, b: &Scalar, expected: &Scalar) -> bool {
    let r = lincomb_vartime(a, p, b);
    if r.infinity {
        return false;
    }
    // x(R) = X / Z^2 is in [0, p); x(R) mod n == expected means x(R) is
    // `expected` or, when that stays below p, `expected + n`.
    let z2 = r.z.square();
    let exp_bytes = expected.to_repr();
    let xc = fe(&exp_bytes);
    if r.x == xc * z2 {
        return true;
    }
    if exp_bytes.as_slice() < P_MINUS_N.as_slice() {
        let n = fe(&order_bytes());
        return r.x == (xc + n) * z2;
    }
    false
}

/// The group order n, big-endian.
fn order_bytes() -> [u8; 32] {
    let mut n = (-Scalar::ONE).to_repr();
    // n - 1 ends in ...0x22 (no borrow), so adding one to the last byte gives n.
    n[31] += 1;
    n.into()
}

/// Signed base-2^W digits of `k`, least significant first:
/// `k = sum(d_i * 2^(W*i))` with every `d_i` in `-HALF..=HALF`.
fn recode(k: &Scalar) -> [i16; WINDOWS] {
    let be = k.to_repr();
    // Little-endian 64-bit limbs, plus a zero limb so a window may read past bit 255.
    let mut limbs = [0u64; 5];
    for (i, limb) in limbs.iter_mut().take(4).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&be[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(word);
    }
    let mask = (1u64 << W) - 1;
    let mut out = [0i16; WINDOWS];
    let mut carry: i32 = 0;
    for (i, o) in out.iter_mut().enumerate() {
        let bit = i * W;
        let (limb, shift) = (bit / 64, bit % 64);
        let mut bits = if limb < 5 { limbs[limb] >> shift } else { 0 };
        if shift + W > 64 && limb + 1 < 5 {
            bits |= limbs[limb + 1] << (64 - shift);
        }
        let mut d = (bits & mask) as i32 + carry;
        if d > HALF as i32 {
            d -= 1 << W;
            carry = 1;
        } else {
            carry = 0;
        }
        *o = d as i16;
    }
    debug_assert_eq!(carry, 0, "the last window absorbs the carry");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::sm2::elliptic_curve::ops::Reduce as _;

    fn scalar(bytes: [u8; 32]) -> Scalar {
        Scalar::reduce(&FieldBytes::from(bytes))
    }

    fn sec1(p: ProjectivePoint) -> Option<Vec<u8>> {
        if bool::from(p.is_identity()) {
            return None;
        }
        Some(p.to_affine().to_sec1_point(false).as_bytes().to_vec())
    }

    fn interesting_scalars() -> Vec<Scalar> {
        vec![
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(128u64),
            Scalar::from(129u64),
            scalar([0x80; 32]),
            scalar([0xFF; 32]),
            scalar([0x7F; 32]),
            scalar(crate::rand::random_bytes()),
            scalar(crate::rand::random_bytes()),
        ]
    }

    #[test]
    fn constants() {
        assert_eq!(hex::encode(order_bytes()), "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123");
        let p = Fe::ZERO - Fe::ONE; // p - 1
        let n = fe(&order_bytes());
        assert_eq!((n + fe(&P_MINUS_N)), Fe::ZERO, "n + (p - n) = p = 0 mod p");
        assert_eq!(hex::encode(p.to_repr()), "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffe");
    }

    #[test]
    fn recode_reconstructs() {
        for k in interesting_scalars() {
            let d = recode(&k);
            let mut acc = Scalar::ZERO;
            let base = Scalar::from(1u64 << W);
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
    fn table_mul_matches_crate() {
        let pk = ProjectivePoint::GENERATOR * scalar(crate::rand::random_bytes());
        let table = FixedBaseTable::new(&pk.to_affine());
        for a in interesting_scalars() {
            for b in interesting_scalars() {
                let got = lincomb_vartime(&a, &table, &b).to_sec1();
                let want = sec1(ProjectivePoint::GENERATOR * a + pk * b);
                assert_eq!(got, want);
            }
        }
        // P = G exercises the doubling and cancellation exceptions.
        let gt = FixedBaseTable::new(&AffinePoint::GENERATOR);
        for a in interesting_scalars() {
            assert_eq!(lincomb_vartime(&a, &gt, &a).to_sec1(), sec1(ProjectivePoint::GENERATOR * (a + a)));
            assert_eq!(lincomb_vartime(&a, &gt, &-a).to_sec1(), None);
        }
    }

    #[test]
    fn x_check_matches_affine_x() {
        let pk = ProjectivePoint::GENERATOR * scalar(crate::rand::random_bytes());
        let table = FixedBaseTable::new(&pk.to_affine());
        for a in interesting_scalars() {
            let b = scalar(crate::rand::random_bytes());
            let r = ProjectivePoint::GENERATOR * a + pk * b;
            let x = Scalar::reduce(&::sm2::elliptic_curve::point::AffineCoordinates::x(&r.to_affine()));
            assert!(lincomb_x_matches(&a, &table, &b, &x));
            assert!(!lincomb_x_matches(&a, &table, &b, &(x + Scalar::ONE)));
        }
    }
}
