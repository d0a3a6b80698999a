//! Handing a card over, and the decisions around it: the fee settled (paid, or waived by the
//! card office with a reason), the holder's document checked against the registered one, and
//! a rejection that says why. Pure functions; the use cases load the facts and call them.

use crate::access::{Actor, Role};
use crate::application::{AppStatus, AppStep, Application, INSTANT_PATH};
use crate::error::DomainError;
use crate::money::Fen;

/// Longest reason a member of staff may give (a fee waiver, a rejection), in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// A reason given by staff: trimmed, 1 to [`MAX_REASON_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffReason(String);

impl StaffReason {
    /// Parses a reason; a missing, blank, overlong or controlled one is a 400 naming `field`.
    pub fn parse(raw: &str, field: &'static str) -> Result<StaffReason, DomainError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(DomainError::invalid("reason_required", field, "give a reason"));
        }
        if text.chars().count() > MAX_REASON_CHARS {
            let message = format!("the reason is longer than {MAX_REASON_CHARS} characters");
            return Err(DomainError::invalid("bad_reason", field, message));
        }
        if text.chars().any(char::is_control) {
            return Err(DomainError::invalid("bad_reason", field, "the reason holds control characters"));
        }
        Ok(StaffReason(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an application's fee stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeState {
    /// Nothing is due (first application, upgrade, temporary card).
    Free,
    /// Collected: the fee transfer of this application is in the ledger.
    Paid,
    /// Waived by the card office, with a reason.
    Waived,
    /// Due and neither paid nor waived.
    Unpaid,
}

impl FeeState {
    /// A paid fee stays paid even if a waiver was recorded before the holder paid after all.
    pub fn of(fee: Fen, paid: bool, waived: bool) -> FeeState {
        match (fee.is_positive(), paid, waived) {
            (false, _, _) => FeeState::Free,
            (true, true, _) => FeeState::Paid,
            (true, false, true) => FeeState::Waived,
            (true, false, false) => FeeState::Unpaid,
        }
    }
    /// Settled: the card may be handed over as far as money goes.
    pub fn is_settled(&self) -> bool {
        !matches!(self, FeeState::Unpaid)
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            FeeState::Free => "free",
            FeeState::Paid => "paid",
            FeeState::Waived => "waived",
            FeeState::Unpaid => "unpaid",
        }
    }
}

/// A card is handed over (collected at the branch, or delivered by mail) only once its fee is
/// settled; every path that hands a card over asks this first.
pub fn decide_fee_settled(fee: Fen, state: FeeState) -> Result<(), DomainError> {
    if state.is_settled() {
        Ok(())
    } else {
        Err(DomainError::refused(
            "fee_unpaid",
            format!(
                "the fee of {fee} yuan is unpaid: collect it, or ask the card office to waive it, before handing the card over"
            ),
        ))
    }
}

/// The card office may waive a fee that is due and not yet paid, while the card is not yet
/// handed over (an application that ended has nothing left to waive).
pub fn decide_fee_waiver(app: &Application, state: FeeState) -> Result<(), DomainError> {
    match state {
        FeeState::Free => Err(DomainError::refused("no_fee", "this application costs nothing")),
        FeeState::Paid => {
            Err(DomainError::conflict("fee_paid", "the fee is already paid", Some(state.as_str().to_string())))
        }
        FeeState::Waived => {
            Err(DomainError::conflict("fee_waived", "the fee is already waived", Some(state.as_str().to_string())))
        }
        FeeState::Unpaid if !app.status.is_open() => Err(DomainError::conflict(
            "application_closed",
            format!("the application is {}: there is no fee left to waive", app.status.as_str()),
            Some(app.status.as_str().to_string()),
        )),
        FeeState::Unpaid => Ok(()),
    }
}

/// A document number as typed at the counter, compared with the registered one: spaces and
/// case do not count (the check character X may be typed x), every other character does.
pub fn same_document(registered: &str, typed: &str) -> bool {
    let norm =
        |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect() };
    let (a, b) = (norm(registered), norm(typed));
    // Compared in full, not stopping at the first difference, so timing does not tell how
    // much of a guess was right.
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// At collection the teller types the holder's document number from the document in front of
/// them; the card is handed over only if it is the registered one. `typed` None means the
/// caller did not ask (the API's bank systems); `required` says whether the path must ask.
pub fn decide_holder_check(registered: &str, typed: Option<&str>, required: bool) -> Result<(), DomainError> {
    match typed.map(str::trim).filter(|t| !t.is_empty()) {
        None if required => Err(DomainError::invalid(
            "holder_doc_number_required",
            "holder_doc_number",
            "type the document number of the person collecting the card",
        )),
        None => Ok(()),
        Some(t) if same_document(registered, t) => Ok(()),
        Some(_) => Err(DomainError::refused(
            "holder_mismatch",
            "the document number does not match the card's holder: do not hand the card over",
        )
        .with_field("holder_doc_number")),
    }
}

/// Rejecting an application needs a reason, which the holder is told; other steps take none.
pub fn decide_step_reason(step: AppStep, reason: Option<&StaffReason>) -> Result<(), DomainError> {
    match (step, reason) {
        (AppStep::Reject, None) => {
            Err(DomainError::invalid("reason_required", "reason", "say why the application is rejected"))
        }
        (AppStep::Reject, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(DomainError::invalid(
            "unexpected_reason",
            "reason",
            format!("the {} step takes no reason", step.as_str()),
        )),
    }
}

/// Waiving a fee is the card office's (clerk or admin), never the bank's that collects it.
pub fn may_waive_fee(actor: &Actor) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the card office may waive a fee"))
    }
}

/// The steps an instant channel runs at once: the whole path for a free card; for a card with a
/// fee, the card is printed and waits at the counter (ready for pickup) until the fee is paid or
/// waived, then it is handed over like any other.
pub fn instant_path(fee: Fen) -> &'static [AppStep] {
    if fee.is_positive() { &INSTANT_PATH[..INSTANT_PATH.len() - 1] } else { &INSTANT_PATH }
}

/// Whether a step hands a card over.
pub fn hands_over(step: AppStep) -> bool {
    matches!(step, AppStep::Collect | AppStep::Deliver)
}

/// The status an application must be in for its card to be waiting for hand-over.
pub fn awaits_hand_over(status: AppStatus) -> bool {
    matches!(status, AppStatus::ReadyForPickup | AppStatus::Shipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_is_settled_when_free_paid_or_waived() {
        let fee = Fen::new(2000);
        assert_eq!(FeeState::of(Fen::ZERO, false, false), FeeState::Free);
        assert_eq!(FeeState::of(fee, true, true), FeeState::Paid);
        assert_eq!(FeeState::of(fee, false, true), FeeState::Waived);
        assert_eq!(FeeState::of(fee, false, false), FeeState::Unpaid);
        for s in [FeeState::Free, FeeState::Paid, FeeState::Waived] {
            assert!(decide_fee_settled(fee, s).is_ok());
        }
        let e = decide_fee_settled(fee, FeeState::Unpaid).unwrap_err();
        assert_eq!((e.kind, e.code), (crate::error::ErrorKind::Refused, "fee_unpaid"));
        assert!(e.message.contains("20.00"), "{}", e.message);
    }

    #[test]
    fn document_numbers_compare_without_case_or_spaces() {
        assert!(same_document("35020319850101123X", "35020319850101123x"));
        assert!(same_document("35020319850101123X", " 350203 19850101 123X "));
        assert!(!same_document("35020319850101123X", "350203198501011231"));
        assert!(!same_document("35020319850101123X", "35020319850101123"));
        assert!(!same_document("35020319850101123X", ""));
        assert!(decide_holder_check("H12345678", None, false).is_ok());
        assert_eq!(decide_holder_check("H12345678", Some(" "), true).unwrap_err().code, "holder_doc_number_required");
        let e = decide_holder_check("H12345678", Some("H12345679"), true).unwrap_err();
        assert_eq!((e.code, e.field), ("holder_mismatch", Some("holder_doc_number")));
        assert!(!e.message.contains("H12345678"), "the registered number is never told");
        assert!(decide_holder_check("H12345678", Some("h12345678"), true).is_ok());
    }

    #[test]
    fn an_instant_card_with_a_fee_waits_for_it() {
        assert_eq!(instant_path(Fen::ZERO), &INSTANT_PATH);
        assert_eq!(instant_path(Fen::new(2000)), &[AppStep::Approve, AppStep::Produce, AppStep::Ready]);
        assert!(instant_path(Fen::new(1)).iter().all(|s| !hands_over(*s)));
    }

    #[test]
    fn staff_reasons_are_bounded() {
        assert_eq!(StaffReason::parse("  低保户  ", "reason").unwrap().as_str(), "低保户");
        assert_eq!(StaffReason::parse("   ", "reason").unwrap_err().code, "reason_required");
        assert_eq!(StaffReason::parse(&"字".repeat(201), "reason").unwrap_err().code, "bad_reason");
        assert!(StaffReason::parse(&"字".repeat(200), "reason").is_ok());
        assert_eq!(StaffReason::parse("a\u{7}b", "reason").unwrap_err().field, Some("reason"));
        let r = StaffReason::parse("photo does not match", "reason").unwrap();
        assert!(decide_step_reason(AppStep::Reject, Some(&r)).is_ok());
        assert_eq!(decide_step_reason(AppStep::Reject, None).unwrap_err().code, "reason_required");
        assert_eq!(decide_step_reason(AppStep::Approve, Some(&r)).unwrap_err().code, "unexpected_reason");
        assert!(decide_step_reason(AppStep::Approve, None).is_ok());
    }
}

#[cfg(test)]
mod fit_tests {
    use super::*;
    use crate::application::{AppKind, BranchFacts, Channel, default_branch, kinds_that_fit};
    use crate::card::{Card, CardStatus};
    use crate::ids::{BankCode, BranchCode, CardNo, RegionCode};

    fn card(status: CardStatus, generation: u8, temporary: bool) -> Card {
        Card {
            card_no: CardNo::from_serial(7),
            person_id: "p".into(),
            status,
            generation,
            temporary,
            bank_code: BankCode::parse("ICBC").unwrap(),
            pan: None,
            card_id_code: None,
            region: RegionCode::parse("350203").unwrap(),
            channel: None,
            application_id: None,
            issued_on: None,
            expires_on: time::Date::from_calendar_date(2036, time::Month::January, 1).unwrap(),
            pin_hash: None,
            suspended_at_ms: None,
            status_changed_at_ms: 0,
            produced_at_ms: 0,
            cancel_reason: None,
            destroyed: false,
        }
    }

    #[test]
    fn only_the_kinds_that_fit_the_cards_are_offered() {
        use AppKind::*;
        assert_eq!(kinds_that_fit(&[]), vec![First, Temporary]);
        assert_eq!(kinds_that_fit(&[card(CardStatus::Active, 3, false)]), vec![Replacement]);
        assert_eq!(kinds_that_fit(&[card(CardStatus::Lost, 3, false)]), vec![Replacement, Temporary]);
        assert_eq!(kinds_that_fit(&[card(CardStatus::Active, 2, false)]), vec![Upgrade]);
        assert_eq!(kinds_that_fit(&[card(CardStatus::Cancelled, 3, false)]), vec![First, Temporary]);
        assert!(!kinds_that_fit(&[card(CardStatus::Issued, 3, false)]).contains(&First));
    }

    #[test]
    fn the_form_starts_on_a_branch_that_can_serve() {
        let b = |code: &str, has_printer: bool| BranchFacts {
            bank_code: BankCode::parse("ICBC").unwrap(),
            code: BranchCode::parse(code).unwrap(),
            has_printer,
        };
        let list = [b("ICBC-HL", false), b("ICBC-SM", true), b("ICBC-XX", false)];
        let own = BranchCode::parse("ICBC-XX").unwrap();
        let code = |f: Option<&BranchFacts>| f.map(|f| f.code.to_string());
        assert_eq!(code(default_branch(&list, Some(&own), false)).as_deref(), Some("ICBC-XX"));
        assert_eq!(code(default_branch(&list, Some(&own), true)).as_deref(), Some("ICBC-SM"));
        assert_eq!(code(default_branch(&list, None, false)).as_deref(), Some("ICBC-HL"));
        assert_eq!(code(default_branch(&list[..1], None, true)).as_deref(), Some("ICBC-HL"));
        assert_eq!(default_branch(&[], Some(&own), true), None);
        let _ = Channel::BranchInstant;
    }

    #[test]
    fn a_fee_is_waived_once_while_the_card_waits() {
        use crate::application::{AppStatus, Application};
        let mut app = Application {
            id: "a".into(),
            person_id: "p".into(),
            kind: AppKind::Replacement,
            channel: Channel::Branch,
            status: AppStatus::ReadyForPickup,
            fee_fen: Fen::new(2000),
            bank_code: BankCode::parse("ICBC").unwrap(),
            branch_code: None,
            mail_address: None,
            reason: None,
            card_no: None,
            replaces_card_no: None,
            submitted_at_ms: 0,
            updated_at_ms: 0,
        };
        assert!(decide_fee_waiver(&app, FeeState::Unpaid).is_ok());
        assert_eq!(decide_fee_waiver(&app, FeeState::Paid).unwrap_err().code, "fee_paid");
        assert_eq!(decide_fee_waiver(&app, FeeState::Waived).unwrap_err().code, "fee_waived");
        assert_eq!(decide_fee_waiver(&app, FeeState::Free).unwrap_err().code, "no_fee");
        app.status = AppStatus::Collected;
        assert_eq!(decide_fee_waiver(&app, FeeState::Unpaid).unwrap_err().code, "application_closed");
    }
}
