//! The card state machine, the PIN rule, and the scheduled sweeps.
//!
//! Every function here only decides. The store applies the decision together with
//! its event and audit record in one transaction.

use crate::application::{Channel, string_enum};
use crate::clock::{DAY_MS, add_months, add_years, china_date};
use crate::error::DomainError;
use crate::ids::{BankCode, CardIdCode, CardNo, Pan, RegionCode};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

string_enum!(
    /// Where a card stands. Replaced, stopped and cancelled are final.
    CardStatus {
        Produced => "produced", Issued => "issued", Active => "active", Suspended => "suspended",
        Lost => "lost", Replaced => "replaced", Stopped => "stopped", Dormant => "dormant", Cancelled => "cancelled",
    }
);
string_enum!(
    /// A holder's or staff member's action on a card (the routes under /cards/{card_no}/).
    CardAction {
        Activate => "activate", Suspend => "suspend", Unsuspend => "unsuspend", ReportLost => "report-lost",
        Stop => "stop", Cancel => "cancel",
    }
);
string_enum!(
    /// Why a card was cancelled (注销).
    CancelReason { Death => "death", Emigration => "emigration", HolderRequest => "holder_request", TemporaryExpired => "temporary_expired", Destroyed => "destroyed" }
);

impl CardStatus {
    pub fn is_final(&self) -> bool {
        matches!(self, CardStatus::Replaced | CardStatus::Stopped | CardStatus::Cancelled)
    }
    /// Counts toward "at most one active or suspended card per person".
    pub fn is_live(&self) -> bool {
        matches!(self, CardStatus::Active | CardStatus::Suspended)
    }
}

/// A stored card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub card_no: CardNo,
    pub person_id: String,
    pub status: CardStatus,
    /// 2 for an imported older-generation card, 3 for cards made here.
    pub generation: u8,
    pub temporary: bool,
    pub bank_code: BankCode,
    /// Bank account number; temporary cards have no financial function and so no PAN.
    pub pan: Option<Pan>,
    pub card_id_code: Option<CardIdCode>,
    /// Issuing region; a temporary card works only here.
    pub region: RegionCode,
    pub channel: Option<Channel>,
    pub application_id: Option<String>,
    pub issued_on: Option<Date>,
    pub expires_on: Date,
    /// Hashed 6-digit PIN, set at activation.
    pub pin_hash: Option<String>,
    pub suspended_at_ms: Option<i64>,
    pub status_changed_at_ms: i64,
    pub produced_at_ms: i64,
    pub cancel_reason: Option<CancelReason>,
    /// Set when a dormant card is cancelled and physically destroyed.
    pub destroyed: bool,
}

/// A 6-digit PIN that is not trivial. Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(******)")
    }
}

impl Pin {
    pub fn parse(raw: &str) -> Result<Pin, DomainError> {
        let digits = raw.as_bytes();
        if digits.len() != 6 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::invalid("bad_pin", "pin", "the PIN must be exactly 6 digits"));
        }
        let all_same = digits.iter().all(|d| *d == digits[0]);
        let steps: Vec<i16> = digits.windows(2).map(|w| w[1] as i16 - w[0] as i16).collect();
        let ascending = steps.iter().all(|s| *s == 1);
        let descending = steps.iter().all(|s| *s == -1);
        let repeated_pair = digits[0..2] == digits[2..4] && digits[2..4] == digits[4..6];
        let repeated_triple = digits[0..3] == digits[3..6];
        if all_same || ascending || descending || repeated_pair || repeated_triple {
            return Err(DomainError::refused(
                "trivial_pin",
                "this PIN is too easy to guess (repeated or sequential digits); choose another",
            ));
        }
        Ok(Pin(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// A PIN chosen by the holder, typed twice: the two must be equal (else a 422 naming
    /// `pin_confirmation`, which says nothing of either), then the PIN must not be trivial.
    pub fn parse_confirmed(raw: &str, confirmation: &str) -> Result<Pin, DomainError> {
        let same = raw.len() == confirmation.len()
            && raw.bytes().zip(confirmation.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Err(DomainError::refused("pin_mismatch", "the two PINs typed differ: type the same PIN twice")
                .with_field("pin_confirmation"));
        }
        Pin::parse(raw)
    }
}

fn illegal(card: &Card, what: &str) -> DomainError {
    DomainError::conflict(
        "illegal_transition",
        format!("cannot {what} card {} while it is {}", card.card_no, card.status.as_str()),
        Some(card.status.as_str().to_string()),
    )
}

/// The outcome of activating a card: its new status and the person's cards it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationPlan {
    pub replaced: Vec<CardNo>,
}

/// Activation (启用): issued -> active. Every other live card of the person, and the card
/// this one was made to replace (e.g. the lost one), become replaced. A temporary card may
/// not displace a live formal card, and an expired card cannot start.
pub fn decide_activation(
    card: &Card,
    others: &[Card],
    replaces: Option<&str>,
    today: Date,
) -> Result<ActivationPlan, DomainError> {
    if card.status != CardStatus::Issued {
        return Err(illegal(card, "activate"));
    }
    if card.expires_on < today {
        return Err(DomainError::refused(
            "card_expired",
            format!("card {} expired on {}", card.card_no, card.expires_on),
        ));
    }
    let others: Vec<&Card> = others.iter().filter(|c| c.card_no != card.card_no).collect();
    let live: Vec<&&Card> = others.iter().filter(|c| c.status.is_live()).collect();
    if card.temporary
        && let Some(formal) = live.iter().find(|c| !c.temporary)
    {
        return Err(DomainError::conflict(
            "has_active_card",
            format!("card {} is in use; a temporary card cannot replace it", formal.card_no),
            Some(formal.status.as_str().into()),
        ));
    }
    let replaced = others
        .iter()
        .filter(|c| c.status.is_live() || (Some(c.card_no.as_str()) == replaces && !c.status.is_final()))
        .map(|c| c.card_no.clone())
        .collect();
    Ok(ActivationPlan { replaced })
}

/// The status an action other than activation leads to, or a 409 naming the current status.
pub fn decide_action(card: &Card, action: CardAction) -> Result<CardStatus, DomainError> {
    if action == CardAction::Activate {
        return Err(DomainError::invalid("use_activation", "action", "activation needs a PIN"));
    }
    next_status(card.status, action).ok_or_else(|| illegal(card, action.as_str()))
}

/// The status `action` takes a card in `status` to, or None when the state machine does not
/// allow it. Activation (which needs a PIN) is [`decide_activation`]'s and is None here. Pages
/// that know only a card's status (another deployment's card, DESIGN §7.1) offer by this.
pub fn next_status(status: CardStatus, action: CardAction) -> Option<CardStatus> {
    use CardStatus as S;
    Some(match (action, status) {
        (CardAction::Suspend, S::Active) => S::Suspended,
        (CardAction::Unsuspend, S::Suspended) => S::Active,
        (CardAction::ReportLost, S::Active | S::Suspended) => S::Lost,
        (CardAction::Stop, S::Active | S::Suspended) => S::Stopped,
        (CardAction::Cancel, s) if !s.is_final() => S::Cancelled,
        _ => return None,
    })
}

/// Hand-over (at collect or delivery): produced -> issued; a dormant card can still be collected.
pub fn decide_hand_over(card: &Card) -> Result<CardStatus, DomainError> {
    match card.status {
        CardStatus::Produced | CardStatus::Dormant => Ok(CardStatus::Issued),
        _ => Err(illegal(card, "hand over")),
    }
}

/// The expiry date of a card issued on `issued_on`: 10 years for formal cards, the policy's days for temporary ones.
/// `expires_on` is the last valid day, so a temporary card valid 60 days from issue day D
/// expires on D + 59 and is past its validity on D + 60.
pub fn expiry_for(issued_on: Date, temporary: bool, policy: &Policy) -> Date {
    if temporary {
        issued_on + Duration::days(policy.temporary_card_valid_days.saturating_sub(1) as i64)
    } else {
        add_years(issued_on, policy.card_valid_years)
    }
}

/// Automatic lift of a temporary loss: due once `suspension_auto_lift_days` have passed.
pub fn auto_lift_due(card: &Card, now_ms: i64, policy: &Policy) -> bool {
    card.status == CardStatus::Suspended
        && card.suspended_at_ms.is_some_and(|at| now_ms - at >= policy.suspension_auto_lift_days as i64 * DAY_MS)
}

/// What the dormant sweep does to one card, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepOutcome {
    MakeDormant,
    CancelAndDestroy,
}

/// Dormant sweep (睡眠卡): batch-channel cards produced and uncollected for the policy's months
/// turn dormant; dormant cards untouched for as many months again are cancelled and destroyed.
pub fn sweep_outcome(card: &Card, today: Date, policy: &Policy) -> Option<SweepOutcome> {
    let batch = card.channel.is_none_or(|c| c.is_batch());
    match card.status {
        CardStatus::Produced
            if batch && add_months(china_date(card.produced_at_ms), policy.dormant_after_months) <= today =>
        {
            Some(SweepOutcome::MakeDormant)
        }
        CardStatus::Dormant
            if add_months(china_date(card.status_changed_at_ms), policy.dormant_destroy_after_months) <= today =>
        {
            Some(SweepOutcome::CancelAndDestroy)
        }
        _ => None,
    }
}

/// A temporary card past its validity is cancelled.
pub fn temporary_expired(card: &Card, today: Date) -> bool {
    card.temporary && !card.status.is_final() && card.expires_on < today
}

/// Longest reason given for stopping a card, in characters.
pub const MAX_STOP_REASON_CHARS: usize = 200;

/// A cancellation (注销) must say why.
pub fn cancel_reason(given: Option<CancelReason>) -> Result<CancelReason, DomainError> {
    given.ok_or_else(|| {
        DomainError::invalid("reason_required", "reason", "give the reason: death, emigration or holder_request")
    })
}

/// Why a card is stopped (停用): free text of 1..=200 characters (e.g. the requesting region),
/// trimmed. Only [`StopReason::parse`] builds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReason(String);

impl StopReason {
    /// The reason trimmed; empty or over 200 characters is refused naming the field `reason`.
    pub fn parse(raw: &str) -> Result<StopReason, DomainError> {
        let reason = raw.trim();
        if reason.is_empty() || reason.chars().count() > MAX_STOP_REASON_CHARS {
            return Err(DomainError::invalid(
                "reason_required",
                "reason",
                "a stop needs a reason of 1-200 characters (e.g. the requesting region)",
            ));
        }
        Ok(StopReason(reason.to_string()))
    }
    /// `moved`: the holder moved and another deployment takes them on (异地停用, DESIGN §7.1).
    pub fn moved() -> StopReason {
        StopReason("moved".to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stop (停用) must say why.
pub fn stop_reason(given: Option<&StopReason>) -> Result<&StopReason, DomainError> {
    given.ok_or_else(|| {
        DomainError::invalid(
            "reason_required",
            "reason",
            "a stop needs a reason of 1-200 characters (e.g. the requesting region)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_and_stopping_need_a_reason() {
        assert_eq!(cancel_reason(Some(CancelReason::Death)), Ok(CancelReason::Death));
        assert_eq!(cancel_reason(None).unwrap_err().code, "reason_required");
        assert_eq!(
            StopReason::parse("  moved to 110000 ").map(|r| r.as_str().to_string()),
            Ok("moved to 110000".into())
        );
        assert_eq!(StopReason::parse("   ").unwrap_err().field, Some("reason"));
        assert_eq!(stop_reason(None).unwrap_err().field, Some("reason"));
        assert!(StopReason::parse(&"x".repeat(MAX_STOP_REASON_CHARS)).is_ok());
        assert!(StopReason::parse(&"x".repeat(MAX_STOP_REASON_CHARS + 1)).is_err());
    }

    #[test]
    fn a_pin_is_typed_twice() {
        assert_eq!(Pin::parse_confirmed("739164", "739164").unwrap().expose(), "739164");
        let e = Pin::parse_confirmed("739164", "739165").unwrap_err();
        assert_eq!((e.code, e.field), ("pin_mismatch", Some("pin_confirmation")));
        assert!(!e.message.contains("7391"), "the message never repeats a PIN");
        assert_eq!(Pin::parse_confirmed("739164", "").unwrap_err().code, "pin_mismatch");
        assert_eq!(Pin::parse_confirmed("123456", "123456").unwrap_err().code, "trivial_pin");
    }

    #[test]
    fn trivial_pins_are_refused() {
        for bad in ["111111", "123456", "654321", "012345", "121212", "123123", "000000"] {
            assert!(Pin::parse(bad).is_err(), "{bad} should be refused");
        }
        for bad in ["12345", "1234567", "12a456", ""] {
            assert_eq!(Pin::parse(bad).map_err(|e| e.code), Err("bad_pin"));
        }
        assert!(Pin::parse("739164").is_ok());
        assert_eq!(format!("{:?}", Pin::parse("739164")), "Ok(Pin(******))");
    }
}
