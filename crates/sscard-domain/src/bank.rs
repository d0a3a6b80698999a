//! Partner banks: the rule that keeps every card's bank account number (PAN) unique.
//!
//! A PAN is the bank's BIN, a serial and a Luhn digit, 19 digits in all (see
//! [`crate::ids::Pan::issue`]). Two banks whose BINs are equal, or one a prefix of the
//! other ("622202" and "62220200"), can make the same PAN from different serials, so a BIN
//! is taken when it overlaps any registered BIN that way. Serials are counted per BIN.

use crate::error::DomainError;
use crate::ids::{BankCode, Bin};

/// Refuses a BIN that equals, extends or is extended by the BIN of a registered bank.
pub fn check_bin_free<'a>(
    bin: &Bin,
    registered: impl IntoIterator<Item = (&'a BankCode, &'a Bin)>,
) -> Result<(), DomainError> {
    let new = bin.as_str();
    for (code, other) in registered {
        let other = other.as_str();
        if new.starts_with(other) || other.starts_with(new) {
            return Err(DomainError::conflict(
                "bin_taken",
                format!(
                    "BIN {new} overlaps BIN {other} of bank {code}: two banks could issue the same card account number"
                ),
                None,
            )
            .with_field("bin"));
        }
    }
    Ok(())
}

/// The name of the counter that numbers the PANs issued under `bin`.
pub fn pan_counter(bin: &Bin) -> String {
    format!("pan:{}", bin.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(code: &str, bin: &str) -> (BankCode, Bin) {
        (BankCode::parse(code).expect("code"), Bin::parse(bin).expect("bin"))
    }

    #[test]
    fn a_bin_that_overlaps_a_registered_one_is_taken() {
        let registered = [bank("ICBC", "622202"), bank("CCB", "621700")];
        let view = || registered.iter().map(|(c, b)| (c, b));
        for taken in ["622202", "62220200", "6217001"] {
            let err = check_bin_free(&Bin::parse(taken).expect("bin"), view()).expect_err(taken);
            assert_eq!(err.code, "bin_taken", "{taken}");
        }
        for free in ["622203", "621701", "62220300"] {
            assert_eq!(check_bin_free(&Bin::parse(free).expect("bin"), view()), Ok(()), "{free}");
        }
        assert_eq!(check_bin_free(&Bin::parse("622202").expect("bin"), std::iter::empty()), Ok(()));
    }

    #[test]
    fn pans_are_counted_per_bin() {
        assert_eq!(pan_counter(&Bin::parse("622202").expect("bin")), "pan:622202");
    }
}
