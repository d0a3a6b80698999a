//! Every string enum of the domain has one table for its text and its serde form: for each
//! variant the JSON form is the text, both read back to the variant, and no two variants share
//! a text.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sscard_domain::access::Role;
use sscard_domain::application::{AppKind, AppStatus, AppStep, Channel, ReplacementReason};
use sscard_domain::card::{CancelReason, CardAction, CardStatus};
use sscard_domain::ecard::{AuthKind, AuthStatus, CARD_REASONS, EcardStatus, status_reason};
use sscard_domain::ledger::{AccountKind, TransferKind};
use sscard_domain::medical::Locality;
use sscard_domain::refusal::Refusal;
use sscard_domain::terminal::{Attr, OperatorKind, Presented, Scenario, UseResult};
use sscard_domain::transit::{LineStatus, TapStatus, TopupSource};
use std::collections::HashSet;
use std::fmt::{Debug, Display};

fn one_table<T>(all: &[T], as_str: fn(&T) -> &'static str, parse: fn(&str) -> Option<T>)
where
    T: Copy + PartialEq + Debug + Display + Serialize + DeserializeOwned,
{
    let mut seen = HashSet::new();
    for v in all {
        let text = as_str(v);
        assert!(seen.insert(text), "{text:?} is the text of two variants");
        assert_eq!(v.to_string(), text);
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text), "{v:?}");
        assert_eq!(serde_json::from_value::<T>(serde_json::json!(text)).unwrap(), *v);
        assert_eq!(parse(text), Some(*v));
    }
    assert_eq!(parse(""), None);
    assert_eq!(parse("no_such_value"), None);
    assert!(serde_json::from_value::<T>(serde_json::json!("no_such_value")).is_err());
}

macro_rules! tables {
    ($($ty:ty),+ $(,)?) => {
        $(one_table::<$ty>(<$ty>::ALL, <$ty>::as_str, <$ty>::parse);)+
    };
}

#[test]
fn every_string_enum_has_one_table_for_text_and_serde() {
    tables!(
        Role,
        AppKind,
        Channel,
        AppStatus,
        AppStep,
        ReplacementReason,
        CardStatus,
        CardAction,
        CancelReason,
        EcardStatus,
        AuthKind,
        AuthStatus,
        AccountKind,
        TransferKind,
        Locality,
        Refusal,
        Scenario,
        OperatorKind,
        Attr,
        Presented,
        UseResult,
        TopupSource,
        TapStatus,
        LineStatus,
    );
}

#[test]
fn refusals_keep_the_codes_the_api_and_the_rows_already_use() {
    for (r, text) in [
        (Refusal::CardLost, "card_lost"),
        (Refusal::CardNotActive, "card_not_active"),
        (Refusal::CardExpired, "card_expired"),
        (Refusal::TemporaryCardOtherRegion, "temporary_card_other_region"),
        (Refusal::Revoked, "revoked"),
        (Refusal::Expired, "expired"),
        (Refusal::UnknownCard, "unknown_card"),
        (Refusal::InsufficientBalance, "insufficient_balance"),
        (Refusal::TimeInFuture, "time_in_future"),
        (Refusal::TooOld, "too_old"),
        (Refusal::BadFare, "bad_fare"),
        (Refusal::CardOrToken, "card_or_token"),
    ] {
        assert_eq!(r.as_str(), text);
    }
    assert_eq!(Refusal::from_code("bad_signature"), Refusal::BadSignature);
    assert_eq!(Refusal::from_code("something new"), Refusal::Malformed);
}

#[test]
fn every_card_state_but_active_has_its_card_reason() {
    for s in CardStatus::ALL {
        match status_reason(*s) {
            None => assert_eq!(*s, CardStatus::Active),
            Some(r) => assert!(CARD_REASONS.contains(&r), "{s}: {r}"),
        }
    }
}
