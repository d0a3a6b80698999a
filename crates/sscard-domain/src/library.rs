//! Library: a holder registers as a patron with no deposit, borrows and returns at
//! any library of the network, within a loan limit and due dates; overdue loans are listed.
//!
//! A loan is due at the end (24:00 China time) of the day `loan_days` after the day it was
//! borrowed. A patron with an overdue loan may not borrow more until it is returned. Each
//! library network (operator) may set its own loan limit (1..=100 items) and loan period
//! (1..=365 days); a network that set none lends 10 items for 30 days.

use crate::clock::{DAY_MS, china_date, start_of_day_ms};
use crate::error::DomainError;
use crate::terminal::{Operator, OperatorKind};
use serde::{Deserialize, Serialize};
use time::Duration;

/// Longest item barcode, in characters.
pub const MAX_ITEM_ID: usize = 64;

/// Most items a network may let one patron hold at once.
pub const MAX_LOAN_LIMIT: u32 = 100;
/// Longest loan period a network may set, in days.
pub const MAX_LOAN_DAYS: u32 = 365;

/// The network's lending rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryPolicy {
    /// Items one patron may hold at once.
    pub loan_limit: u32,
    /// Days an item may be kept.
    pub loan_days: u32,
}

impl Default for LibraryPolicy {
    fn default() -> Self {
        LibraryPolicy { loan_limit: 10, loan_days: 30 }
    }
}

impl LibraryPolicy {
    /// A network's lending rules as an admin sets them: 1..=100 items and 1..=365 days,
    /// else a 422 naming the field.
    pub fn new(loan_limit: i64, loan_days: i64) -> Result<LibraryPolicy, DomainError> {
        let in_range = |v: i64, max: u32| u32::try_from(v).ok().filter(|v| (1..=max).contains(v));
        let loan_limit = in_range(loan_limit, MAX_LOAN_LIMIT).ok_or_else(|| {
            DomainError::refused(
                "bad_library_policy",
                format!("the loan limit is 1..={MAX_LOAN_LIMIT} items, not {loan_limit}"),
            )
            .with_field("loan_limit")
        })?;
        let loan_days = in_range(loan_days, MAX_LOAN_DAYS).ok_or_else(|| {
            DomainError::refused(
                "bad_library_policy",
                format!("the loan period is 1..={MAX_LOAN_DAYS} days, not {loan_days}"),
            )
            .with_field("loan_days")
        })?;
        Ok(LibraryPolicy { loan_limit, loan_days })
    }
}

/// Check an item barcode: 1..=64 printable ASCII characters.
pub fn check_item(item_id: &str) -> Result<(), DomainError> {
    if item_id.is_empty() || item_id.len() > MAX_ITEM_ID || !item_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "bad_item",
            "item_id",
            format!("item_id must be 1..={MAX_ITEM_ID} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// The moment a loan made at `now_ms` falls due: the end of the day `loan_days` later.
pub fn due_at(now_ms: i64, policy: &LibraryPolicy) -> i64 {
    let due_day = china_date(now_ms) + Duration::days(i64::from(policy.loan_days));
    start_of_day_ms(due_day) + DAY_MS - 1
}

/// Whether a loan due at `due_at_ms` and not returned is overdue at `now_ms`.
pub fn is_overdue(due_at_ms: i64, now_ms: i64) -> bool {
    now_ms > due_at_ms
}

/// Whole days a loan is overdue at `now_ms` (0 when not overdue).
pub fn overdue_days(due_at_ms: i64, now_ms: i64) -> i64 {
    if now_ms <= due_at_ms { 0 } else { (now_ms - due_at_ms - 1) / DAY_MS + 1 }
}

/// A new loan: the item is not on loan, the patron is under the limit and has nothing overdue.
pub fn decide_borrow(
    item_on_loan: bool,
    open_loans: u32,
    overdue_loans: u32,
    policy: &LibraryPolicy,
) -> Result<(), DomainError> {
    if item_on_loan {
        return Err(DomainError::conflict("item_on_loan", "this item is already on loan", Some("on_loan".into())));
    }
    if overdue_loans > 0 {
        return Err(DomainError::refused(
            "has_overdue",
            format!("{overdue_loans} loan(s) are overdue: return them before borrowing more"),
        ));
    }
    if open_loans >= policy.loan_limit {
        return Err(DomainError::refused(
            "loan_limit",
            format!("the loan limit is {} items and {open_loans} are on loan", policy.loan_limit),
        ));
    }
    Ok(())
}

/// Registration as a patron: once, with no deposit.
pub fn decide_register(already_patron: bool) -> Result<(), DomainError> {
    if already_patron {
        Err(DomainError::conflict("already_patron", "this holder is already a patron", Some("registered".into())))
    } else {
        Ok(())
    }
}

/// Library rules are set for library networks only.
pub fn check_library_operator(op: &Operator) -> Result<(), DomainError> {
    if op.kind == OperatorKind::Library {
        return Ok(());
    }
    Err(DomainError::refused(
        "not_a_library",
        format!("operator {} is a {}, not a library network", op.code, op.kind.as_str()),
    )
    .with_field("operator"))
}

/// Only a patron of the network borrows (registering needs no deposit).
pub fn check_patron(is_patron: bool) -> Result<(), DomainError> {
    if is_patron {
        Ok(())
    } else {
        Err(DomainError::refused("not_patron", "register as a patron first (no deposit needed)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn loans_are_due_at_the_end_of_the_day() {
        let p = LibraryPolicy::default();
        let borrowed = start_of_day_ms(date!(2026 - 11 - 24)) + 15 * 3_600_000;
        let due = due_at(borrowed, &p);
        assert_eq!(china_date(due), date!(2026 - 12 - 24));
        assert_eq!(china_date(due + 1), date!(2026 - 12 - 25));
        assert!(!is_overdue(due, due));
        assert!(is_overdue(due, due + 1));
        assert_eq!(overdue_days(due, due), 0);
        assert_eq!(overdue_days(due, due + 1), 1);
        assert_eq!(overdue_days(due, due + DAY_MS), 1);
        assert_eq!(overdue_days(due, due + DAY_MS + 1), 2);
    }

    #[test]
    fn a_network_sets_its_own_limit_and_days_within_bounds() {
        assert_eq!(LibraryPolicy::new(10, 30).unwrap(), LibraryPolicy::default());
        assert_eq!(LibraryPolicy::new(1, 1).unwrap(), LibraryPolicy { loan_limit: 1, loan_days: 1 });
        assert_eq!(LibraryPolicy::new(100, 365).unwrap(), LibraryPolicy { loan_limit: 100, loan_days: 365 });
        for (limit, days, field) in [
            (0, 30, "loan_limit"),
            (101, 30, "loan_limit"),
            (-1, 30, "loan_limit"),
            (i64::MAX, 30, "loan_limit"),
            (10, 0, "loan_days"),
            (10, 366, "loan_days"),
            (10, -5, "loan_days"),
        ] {
            let e = LibraryPolicy::new(limit, days).unwrap_err();
            assert_eq!(
                (e.kind, e.code, e.field),
                (crate::error::ErrorKind::Refused, "bad_library_policy", Some(field))
            );
        }
        // One day: due at the end of tomorrow.
        let p = LibraryPolicy::new(3, 1).unwrap();
        let borrowed = start_of_day_ms(date!(2026 - 11 - 24)) + 15 * 3_600_000;
        assert_eq!(china_date(due_at(borrowed, &p)), date!(2026 - 11 - 25));
    }

    #[test]
    fn borrowing_rules() {
        let p = LibraryPolicy { loan_limit: 2, loan_days: 14 };
        assert!(decide_borrow(false, 1, 0, &p).is_ok());
        assert_eq!(decide_borrow(false, 2, 0, &p).unwrap_err().code, "loan_limit");
        assert_eq!(decide_borrow(false, 0, 1, &p).unwrap_err().code, "has_overdue");
        assert_eq!(decide_borrow(true, 0, 0, &p).unwrap_err().code, "item_on_loan");
        assert!(decide_register(false).is_ok());
        assert_eq!(decide_register(true).unwrap_err().code, "already_patron");
        assert!(check_item("9787020002207").is_ok());
        assert!(check_item("").is_err());
    }

    #[test]
    fn only_patrons_of_library_networks_borrow() {
        use crate::ids::RegionCode;
        let region = RegionCode::parse("350200").unwrap();
        let mut op =
            Operator { code: "XMLIB".into(), name: "Xiamen libraries".into(), kind: OperatorKind::Library, region };
        assert!(check_library_operator(&op).is_ok());
        op.kind = OperatorKind::Park;
        let e = check_library_operator(&op).unwrap_err();
        assert_eq!((e.code, e.field), ("not_a_library", Some("operator")));
        assert!(check_patron(true).is_ok());
        assert_eq!(check_patron(false).unwrap_err().code, "not_patron");
    }
}
