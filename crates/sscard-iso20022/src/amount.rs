//! Amounts as ISO 20022 writes them: yuan with exactly two decimals (`1234.56`), from integer
//! fen, with no float anywhere.

use std::fmt::Write as _;

use sscard_domain::money::Fen;

/// The largest control sum a file may declare: `DecimalNumber` has at most 18 digits, two of
/// them decimals.
pub const MAX_CTRL_SUM_FEN: i64 = 999_999_999_999_999_999;

/// Why an amount cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// A credit of zero or less.
    #[error("an amount must be greater than zero, got {got} fen")]
    NotPositive {
        /// The refused amount.
        got: i64,
    },
    /// More than a field's 18 digits.
    #[error("an amount of {got} fen has more than 18 digits")]
    TooLarge {
        /// The refused amount.
        got: i64,
    },
}

/// `fen` as yuan with two decimals, appended to `out` (no allocation when `out` has room).
pub fn write_amount(fen: Fen, out: &mut String) -> Result<(), AmountError> {
    let v = fen.value();
    if v <= 0 {
        return Err(AmountError::NotPositive { got: v });
    }
    if v > MAX_CTRL_SUM_FEN {
        return Err(AmountError::TooLarge { got: v });
    }
    // Writing to a String cannot fail.
    let _ = write!(out, "{}.{:02}", v / 100, v % 100);
    Ok(())
}

/// `fen` as yuan with two decimals: 123456 fen is `"1234.56"`, 5 fen is `"0.05"`.
pub fn format_amount(fen: Fen) -> Result<String, AmountError> {
    let mut out = String::with_capacity(24);
    write_amount(fen, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimals_always() {
        assert_eq!(format_amount(Fen::new(123_456)).as_deref(), Ok("1234.56"));
        assert_eq!(format_amount(Fen::new(5)).as_deref(), Ok("0.05"));
        assert_eq!(format_amount(Fen::new(100)).as_deref(), Ok("1.00"));
        assert_eq!(format_amount(Fen::new(0)), Err(AmountError::NotPositive { got: 0 }));
        assert_eq!(format_amount(Fen::new(-1)), Err(AmountError::NotPositive { got: -1 }));
        assert!(format_amount(Fen::new(MAX_CTRL_SUM_FEN)).is_ok());
        assert!(format_amount(Fen::new(MAX_CTRL_SUM_FEN + 1)).is_err());
    }
}
