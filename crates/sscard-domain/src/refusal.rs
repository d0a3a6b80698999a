//! Why a card, an e-card or an offline line is refused at a terminal: one machine code each.
//! The text is the code the API answers and the usage and tap rows keep (`DomainError.code`
//! is filled from [`Refusal::as_str`]); it is also the serde form.

use crate::application::string_enum;
use serde::{Deserialize, Serialize};

string_enum!(
    /// A refusal at a terminal or in an offline batch.
    Refusal {
        // The card's state (see `ecard::status_reason`).
        CardSuspended => "card_suspended", CardLost => "card_lost", CardStopped => "card_stopped",
        CardCancelled => "card_cancelled", CardReplaced => "card_replaced", CardDormant => "card_dormant",
        CardNotActive => "card_not_active",
        // The card itself.
        CardExpired => "card_expired", TemporaryCardOtherRegion => "temporary_card_other_region",
        UnknownCard => "unknown_card",
        // The e-card and its QR code.
        Revoked => "revoked", Malformed => "malformed", UnknownKey => "unknown_key", KeyNotValid => "key_not_valid",
        BadSignature => "bad_signature", Expired => "expired", NotYetValid => "not_yet_valid",
        NotActive => "not_active",
        // An offline line.
        CardOrToken => "card_or_token", TimeInFuture => "time_in_future", TooOld => "too_old",
        BadFare => "bad_fare", InsufficientBalance => "insufficient_balance",
        // A QR code of another deployment of the nation (`nation::visitor`): refused by a use
        // that would move money on it, or that keeps a record of the person here.
        ForeignCardNotPayable => "foreign_card_not_payable", ForeignCardLocalOnly => "foreign_card_local_only",
    }
);

impl Refusal {
    /// A reason given at the edge as a code (a refused QR code, an unreadable batch line); a code
    /// this table does not know is `malformed`.
    pub fn from_code(code: &str) -> Refusal {
        Refusal::parse(code).unwrap_or(Refusal::Malformed)
    }
}
