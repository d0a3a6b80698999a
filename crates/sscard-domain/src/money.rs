//! Money as an integer number of fen (分; 1 yuan = 100 fen).
//!
//! There are no floats anywhere: amounts are `i64` fen, arithmetic is checked
//! and yuan strings such as `"20.5"` are parsed digit by digit.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// An amount that must be positive was zero or negative.
    #[error("amount must be greater than zero, got {got} fen")]
    NotPositive {
        /// The refused amount in fen.
        got: i64,
    },
    /// An amount above the largest one a single request may carry.
    #[error("amount {got} fen is larger than the maximum of {max} fen")]
    TooLarge {
        /// The refused amount in fen.
        got: i64,
        /// The maximum, [`Fen::MAX_AMOUNT`].
        max: i64,
    },
    /// A yuan string that is not a decimal number.
    #[error("amount {value:?} is not a valid yuan amount: {reason}")]
    BadAmount {
        /// The refused input (shortened when very long).
        value: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A yuan string with more than two decimals (fen is the smallest unit).
    #[error("amount {value:?} has more than 2 decimals: the smallest unit is 0.01 yuan (1 fen)")]
    TooManyDecimals {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A yuan string too large to be represented.
    #[error("amount {value:?} is too large")]
    Overflow {
        /// The refused input (shortened when very long).
        value: String,
    },
}

fn shown(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// An amount of money in fen. May be negative (e.g. a balance change); use
/// [`Fen::parse_amount`] for amounts arriving in requests, which must be
/// positive. Serializes as a bare integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    /// Zero fen.
    pub const ZERO: Fen = Fen(0);

    /// The largest amount a single request may carry: 10^12 fen (10 billion yuan).
    pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

    /// Wrap a number of fen.
    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// `yuan` whole yuan, or `None` if that overflows.
    pub const fn from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// The number of fen.
    pub const fn value(self) -> i64 {
        self.0
    }

    /// A positive amount from a request: greater than zero and at most
    /// [`Fen::MAX_AMOUNT`].
    pub fn parse_amount(fen: i64) -> Result<Fen, MoneyError> {
        if fen <= 0 {
            Err(MoneyError::NotPositive { got: fen })
        } else if fen > Self::MAX_AMOUNT {
            Err(MoneyError::TooLarge { got: fen, max: Self::MAX_AMOUNT })
        } else {
            Ok(Fen(fen))
        }
    }

    /// Parse a yuan amount written in decimal, exactly: `"20"`, `"20.5"`,
    /// `"20.05"`, `"-3.10"`, `"+1"`. Surrounding whitespace is ignored; at most
    /// two decimals; at least one digit before the point and, if there is a
    /// point, at least one after it. No exponent, no thousands separators.
    /// The result may be zero or negative: check the sign where it matters.
    pub fn from_yuan_str(s: &str) -> Result<Fen, MoneyError> {
        let t = s.trim();
        let bad = |reason| MoneyError::BadAmount { value: shown(s), reason };
        let (negative, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            Some(_) => (false, t),
            None => return Err(bad("it is empty")),
        };
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (body, None),
        };
        if whole.is_empty() {
            return Err(bad("it needs at least one digit before the decimal point"));
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("only digits and one decimal point are allowed"));
        }
        let frac = match frac {
            None => "",
            Some("") => return Err(bad("it needs a digit after the decimal point")),
            Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad("only digits and one decimal point are allowed"));
            }
            Some(f) if f.len() > 2 => {
                return Err(MoneyError::TooManyDecimals { value: shown(s) });
            }
            Some(f) => f,
        };
        let overflow = || MoneyError::Overflow { value: shown(s) };
        // Accumulate as a negative number so that i64::MIN fen is reachable.
        let mut acc: i64 = 0;
        let digits = whole.bytes().chain(frac.bytes()).chain(
            // Pad the fraction to exactly two digits.
            std::iter::repeat_n(b'0', 2 - frac.len()),
        );
        for b in digits {
            acc = acc.checked_mul(10).and_then(|a| a.checked_sub(i64::from(b - b'0'))).ok_or_else(overflow)?;
        }
        if negative { Ok(Fen(acc)) } else { acc.checked_neg().map(Fen).ok_or_else(overflow) }
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Fen) -> Option<Fen> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `self - other`, or `None` on overflow.
    pub const fn checked_sub(self, other: Fen) -> Option<Fen> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `-self`, or `None` for the one value that has no negation.
    pub const fn checked_neg(self) -> Option<Fen> {
        match self.0.checked_neg() {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `self * n`, or `None` on overflow.
    pub const fn checked_mul(self, n: i64) -> Option<Fen> {
        match self.0.checked_mul(n) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the amount is greater than zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whether the amount is less than zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Fen {
    /// Yuan with exactly two decimals: `20.00`, `0.05`, `-3.10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let text = format!("{sign}{}.{:02}", abs / 100, abs % 100);
        f.pad(&text)
    }
}

impl std::str::FromStr for Fen {
    type Err = MoneyError;
    /// Parses a yuan string, as [`Fen::from_yuan_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_yuan_str(s)
    }
}
