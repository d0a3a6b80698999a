//! Request fields parsed into domain types at the edge (the server's routes and pages, the
//! CLI): each bad field is refused as a [`DomainError`] naming the field, before any use case
//! runs. The use cases take only the parsed types.

use sscard_domain::document::Ssn;
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, CardNo, RegionCode};
use sscard_domain::money::Fen;

/// A card number (one letter and 8 digits), refused naming `field`.
pub fn card_no(raw: &str, field: &'static str) -> Result<CardNo, DomainError> {
    CardNo::parse(raw).map_err(|e| DomainError::from(e).with_field(field))
}

/// A social security number, refused naming `field`.
pub fn ssn(raw: &str, field: &'static str) -> Result<Ssn, DomainError> {
    Ssn::parse(raw).map_err(|e| DomainError::from(e).with_field(field))
}

/// A bank code, refused naming `field`.
pub fn bank_code(raw: &str, field: &'static str) -> Result<BankCode, DomainError> {
    BankCode::parse(raw).map_err(|e| DomainError::from(e).with_field(field))
}

/// A bank branch's code, refused naming `field`.
pub fn branch_code(raw: &str, field: &'static str) -> Result<sscard_domain::ids::BranchCode, DomainError> {
    sscard_domain::ids::BranchCode::parse(raw).map_err(|e| DomainError::from(e).with_field(field))
}

/// A six-digit region code, refused naming `field`.
pub fn region(raw: &str, field: &'static str) -> Result<RegionCode, DomainError> {
    RegionCode::parse(raw).map_err(|e| DomainError::from(e).with_field(field))
}

/// A positive amount in fen, refused naming `field`.
pub fn amount(fen: i64, field: &'static str) -> Result<Fen, DomainError> {
    Fen::parse_amount(fen).map_err(|e| DomainError::from(e).with_field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_field_is_refused_naming_it() {
        assert_eq!(card_no("A1234", "card_no").unwrap_err().field, Some("card_no"));
        assert_eq!(ssn("12345", "ssn").unwrap_err().field, Some("ssn"));
        assert_eq!(bank_code("x", "bank_code").unwrap_err().field, Some("bank_code"));
        assert_eq!(region("999999", "region").unwrap_err().field, Some("region"));
        assert_eq!(amount(0, "fare_fen").unwrap_err().field, Some("fare_fen"));
        assert!(card_no("A12345678", "card_no").is_ok());
    }
}
