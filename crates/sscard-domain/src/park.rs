//! Parks: entry rules per park, free for retirees and annual pass holders,
//! otherwise a price paid from the card's e-wallet; annual passes bought onto the card.
//!
//! An annual pass is valid 365 days (366 across a 29 February) from its start, i.e. until the
//! same calendar day a year later (exclusive). Buying while a pass is still valid extends it
//! from its end, so no paid day is lost.

use crate::clock::{add_years, china_date, start_of_day_ms};
use crate::error::DomainError;
use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// Longest park code.
pub const MAX_PARK_CODE: usize = 32;

/// One park's entry rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkRule {
    pub code: String,
    pub name: String,
    /// Price of one entry, in fen (0 = free for everyone).
    pub price_fen: i64,
    pub free_for_retirees: bool,
    pub accepts_annual_pass: bool,
    /// Price of an annual pass, in fen; `None` when this park sells none.
    pub annual_pass_fen: Option<i64>,
}

impl ParkRule {
    /// A park's rules from a request's fields, refused naming the field at fault
    /// (`park_code`, `price_fen`, `annual_pass_fen`): the edge builds the rule valid.
    pub fn parse(
        code: &str,
        name: &str,
        price: i64,
        free_for_retirees: bool,
        accepts_annual_pass: bool,
        annual_pass: Option<i64>,
    ) -> Result<ParkRule, DomainError> {
        let rule = ParkRule {
            code: code.trim().to_string(),
            name: name.trim().to_string(),
            price_fen: price,
            free_for_retirees,
            accepts_annual_pass,
            annual_pass_fen: annual_pass,
        };
        check_rule(&rule)?;
        Ok(rule)
    }
}

/// Why someone was (or was not) let in, and what they paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDecision {
    pub admitted: bool,
    pub price_fen: i64,
    /// `retiree`, `annual_pass`, `free`, `paid`, or the refusal code.
    pub reason: &'static str,
}

/// Check a park code: 1..=32 letters, digits, '-' or '_'.
pub fn check_code(code: &str) -> Result<(), DomainError> {
    if code.is_empty()
        || code.len() > MAX_PARK_CODE
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(DomainError::invalid("bad_park_code", "park_code", "park_code must be 1..=32 letters or digits"));
    }
    Ok(())
}

/// Validate a configured park rule.
pub fn check_rule(rule: &ParkRule) -> Result<(), DomainError> {
    check_code(&rule.code)?;
    if !(0..=Fen::MAX_AMOUNT).contains(&rule.price_fen) {
        return Err(DomainError::invalid("bad_price", "price_fen", "price_fen must not be negative"));
    }
    if let Some(p) = rule.annual_pass_fen
        && !(1..=Fen::MAX_AMOUNT).contains(&p)
    {
        return Err(DomainError::invalid("bad_price", "annual_pass_fen", "annual_pass_fen must be positive"));
    }
    Ok(())
}

/// The entry decision, given whether the holder is retired, holds a valid pass for this park,
/// and their wallet balance (the price is debited from it).
pub fn decide_entry(rule: &ParkRule, retired: bool, has_valid_pass: bool, wallet: Fen) -> EntryDecision {
    if retired && rule.free_for_retirees {
        return EntryDecision { admitted: true, price_fen: 0, reason: "retiree" };
    }
    if has_valid_pass && rule.accepts_annual_pass {
        return EntryDecision { admitted: true, price_fen: 0, reason: "annual_pass" };
    }
    if rule.price_fen == 0 {
        return EntryDecision { admitted: true, price_fen: 0, reason: "free" };
    }
    if wallet.value() < rule.price_fen {
        return EntryDecision {
            admitted: false,
            price_fen: rule.price_fen,
            reason: crate::refusal::Refusal::InsufficientBalance.as_str(),
        };
    }
    EntryDecision { admitted: true, price_fen: rule.price_fen, reason: "paid" }
}

/// A pass purchase at `now_ms` while the holder's latest pass (if any) ends at `current_end_ms`:
/// the new validity `(start_ms, end_ms)`, starting now or where the current pass ends.
pub fn decide_pass(rule: &ParkRule, current_end_ms: Option<i64>, now_ms: i64) -> Result<(Fen, i64, i64), DomainError> {
    let Some(price) = rule.annual_pass_fen else {
        return Err(DomainError::refused("no_annual_pass", format!("park {} sells no annual pass", rule.code)));
    };
    let start = current_end_ms.filter(|e| *e > now_ms).unwrap_or(now_ms);
    let start_day = china_date(start);
    let end = start_of_day_ms(add_years(start_day, 1)) + (start - start_of_day_ms(start_day));
    Ok((Fen::new(price), start, end))
}

/// A park terminal admits to its own operator's parks only.
pub fn check_park_operator(code: &str, park_operator: &str, terminal_operator: &str) -> Result<(), DomainError> {
    if park_operator == terminal_operator {
        return Ok(());
    }
    Err(DomainError {
        code: "foreign_park",
        ..DomainError::forbidden(format!("park {code} belongs to another operator"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn rule() -> ParkRule {
        ParkRule {
            code: "GULANGYU".into(),
            name: "Gulangyu".into(),
            price_fen: 3500,
            free_for_retirees: true,
            accepts_annual_pass: true,
            annual_pass_fen: Some(10_000),
        }
    }

    #[test]
    fn entry_rules_in_order() {
        let r = rule();
        assert_eq!(decide_entry(&r, true, false, Fen::ZERO).reason, "retiree");
        assert_eq!(decide_entry(&r, false, true, Fen::ZERO).reason, "annual_pass");
        let paid = decide_entry(&r, false, false, Fen::new(3500));
        assert_eq!((paid.admitted, paid.price_fen, paid.reason), (true, 3500, "paid"));
        let poor = decide_entry(&r, false, false, Fen::new(3499));
        assert_eq!((poor.admitted, poor.reason), (false, "insufficient_balance"));
        let strict = ParkRule { free_for_retirees: false, accepts_annual_pass: false, ..rule() };
        assert_eq!(decide_entry(&strict, true, true, Fen::new(3500)).reason, "paid");
        let free = ParkRule { price_fen: 0, ..strict };
        assert_eq!(decide_entry(&free, false, false, Fen::ZERO).reason, "free");
    }

    #[test]
    fn passes_last_a_year_and_extend() {
        let now = start_of_day_ms(date!(2026 - 11 - 24)) + 3_600_000;
        let (price, start, end) = decide_pass(&rule(), None, now).unwrap();
        assert_eq!((price, start), (Fen::new(10_000), now));
        assert_eq!(china_date(end), date!(2027 - 11 - 24));
        let (_, start2, end2) = decide_pass(&rule(), Some(end), now + 1000).unwrap();
        assert_eq!(start2, end);
        assert_eq!(china_date(end2), date!(2028 - 11 - 24));
        let (_, start3, _) = decide_pass(&rule(), Some(now - 1), now).unwrap();
        assert_eq!(start3, now, "an expired pass does not carry over");
        let none = ParkRule { annual_pass_fen: None, ..rule() };
        assert_eq!(decide_pass(&none, None, now).unwrap_err().code, "no_annual_pass");
        assert!(check_rule(&rule()).is_ok());
        assert!(check_rule(&ParkRule { price_fen: -1, ..rule() }).is_err());
    }

    #[test]
    fn a_terminal_admits_to_its_operators_parks_only() {
        assert!(check_park_operator("GULANGYU", "XMPARK", "XMPARK").is_ok());
        let e = check_park_operator("GULANGYU", "XMPARK", "XMBUS").unwrap_err();
        assert_eq!((e.code, e.kind), ("foreign_park", crate::error::ErrorKind::Forbidden));
    }
}
