//! Card applications: kinds, channels, the step table, fees and the intake rules.

use crate::card::{Card, CardStatus};
use crate::clock::working_days_between;
use crate::error::DomainError;
use crate::ids::{BankCode, BranchCode};
use crate::money::Fen;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use time::Date;

/// Longest mailing address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        /// The text form below is also the serde form: one table for both.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// What is being applied for.
    AppKind { First => "first", Upgrade => "upgrade", Replacement => "replacement", Temporary => "temporary" }
);
string_enum!(
    /// Where and how the application was taken.
    Channel {
        Branch => "branch", BranchInstant => "branch_instant", Kiosk => "kiosk", Online => "online",
        DoorToDoor => "door_to_door", EmployerBatch => "employer_batch", Newborn => "newborn",
        CrossProvince => "cross_province",
    }
);
string_enum!(
    /// Where an application stands.
    AppStatus {
        Submitted => "submitted", AwaitingRemoteStop => "awaiting_remote_stop", Approved => "approved",
        Rejected => "rejected", InProduction => "in_production",
        ReadyForPickup => "ready_for_pickup", Shipped => "shipped", Delivered => "delivered",
        Collected => "collected", Withdrawn => "withdrawn",
    }
);
string_enum!(
    /// A step that moves an application.
    AppStep {
        Approve => "approve", Reject => "reject", Produce => "produce", Ready => "ready", Ship => "ship",
        Deliver => "deliver", Collect => "collect", Withdraw => "withdraw",
    }
);
string_enum!(
    /// Why a replacement is wanted.
    ReplacementReason { Lost => "lost", Damaged => "damaged", ChangeOfBank => "change_of_bank" }
);

impl Channel {
    /// Made on the spot at a branch printer or a kiosk: the whole path runs in one transaction.
    pub fn is_instant(&self) -> bool {
        matches!(self, Channel::BranchInstant | Channel::Kiosk)
    }
    /// Made in the card bureau's production batches: uncollected cards of these channels go dormant.
    pub fn is_batch(&self) -> bool {
        !self.is_instant()
    }
    /// Needs a branch to be named at intake.
    pub fn needs_branch(&self) -> bool {
        matches!(self, Channel::Branch | Channel::BranchInstant | Channel::Kiosk)
    }
}

impl AppStatus {
    /// Still moving: blocks a second application of the same person.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            AppStatus::Submitted
                | AppStatus::AwaitingRemoteStop
                | AppStatus::Approved
                | AppStatus::InProduction
                | AppStatus::ReadyForPickup
                | AppStatus::Shipped
        )
    }
}

/// The step table: where `step` leads from `from`, or a 409 naming the current status.
pub fn step_target(from: AppStatus, step: AppStep) -> Result<AppStatus, DomainError> {
    use AppStatus as S;
    use AppStep as T;
    let to = match (step, from) {
        (T::Approve, S::Submitted) => S::Approved,
        (T::Reject, S::Submitted | S::AwaitingRemoteStop) => S::Rejected,
        (T::Produce, S::Approved) => S::InProduction,
        (T::Ready, S::InProduction) => S::ReadyForPickup,
        (T::Ship, S::InProduction) => S::Shipped,
        (T::Deliver, S::Shipped) => S::Delivered,
        (T::Collect, S::ReadyForPickup) => S::Collected,
        (T::Withdraw, S::Submitted | S::AwaitingRemoteStop | S::Approved) => S::Withdrawn,
        _ => {
            return Err(DomainError::conflict(
                "illegal_step",
                format!("cannot {} an application that is {}", step.as_str(), from.as_str()),
                Some(from.as_str().to_string()),
            ));
        }
    };
    Ok(to)
}

/// What the national hub answered when a deployment claimed a person before an approve
/// (DESIGN §7.1): go on, or wait while another deployment stops the person's live card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimDecision {
    Go,
    Wait,
}

/// A deployment asks the hub before approving these kinds: each may end in a live card, and
/// the nation holds one live card per person. A temporary card works only in its own region.
pub fn needs_national_claim(kind: AppKind) -> bool {
    matches!(kind, AppKind::First | AppKind::Upgrade | AppKind::Replacement)
}

/// Where an approve leads once the hub answered: approved on `go`, awaiting_remote_stop on
/// `wait`; from anything but submitted, the 409 of the step table.
pub fn approve_after_claim(from: AppStatus, decision: ClaimDecision) -> Result<AppStatus, DomainError> {
    let to = step_target(from, AppStep::Approve)?;
    Ok(match decision {
        ClaimDecision::Go => to,
        ClaimDecision::Wait => AppStatus::AwaitingRemoteStop,
    })
}

/// The hub's `resume_application`: the person is released everywhere else, so an application
/// waiting for that is approved. Any other status is a 409 naming it (the application was
/// withdrawn or rejected meanwhile, or the resume was already applied).
pub fn resume_target(from: AppStatus) -> Result<AppStatus, DomainError> {
    match from {
        AppStatus::AwaitingRemoteStop => Ok(AppStatus::Approved),
        _ => Err(DomainError::conflict(
            "illegal_step",
            format!("cannot resume an application that is {}", from.as_str()),
            Some(from.as_str().to_string()),
        )),
    }
}

/// The steps an instant channel runs in one go, in order.
pub const INSTANT_PATH: [AppStep; 4] = [AppStep::Approve, AppStep::Produce, AppStep::Ready, AppStep::Collect];

/// The fee for an application of `kind`: first and upgrade free, replacement per policy.
pub fn fee_for(kind: AppKind, policy: &Policy) -> Fen {
    match kind {
        AppKind::Replacement => policy.replacement_fee(),
        AppKind::First | AppKind::Upgrade | AppKind::Temporary => Fen::ZERO,
    }
}

/// One entry of "where is my card" (制卡进度查询).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub status: AppStatus,
    pub at_ms: i64,
    pub actor: String,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub person_id: String,
    pub kind: AppKind,
    pub channel: Channel,
    pub status: AppStatus,
    pub fee_fen: Fen,
    pub bank_code: BankCode,
    pub branch_code: Option<BranchCode>,
    pub mail_address: Option<String>,
    pub reason: Option<ReplacementReason>,
    /// The card made for this application, once produced.
    pub card_no: Option<String>,
    /// The card this application replaces or upgrades.
    pub replaces_card_no: Option<String>,
    pub submitted_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A branch as the intake rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchFacts {
    pub bank_code: BankCode,
    pub code: BranchCode,
    pub has_printer: bool,
}

/// What an application request says.
#[derive(Debug, Clone)]
pub struct ApplicationInput {
    pub kind: AppKind,
    pub channel: Channel,
    pub bank_code: BankCode,
    pub branch_code: Option<BranchCode>,
    pub mail_address: Option<String>,
    pub reason: Option<ReplacementReason>,
}

/// Everything the intake rules need to know about the applicant's situation.
pub struct IntakeFacts<'a> {
    pub cards: &'a [Card],
    pub open_applications: &'a [Application],
    pub branch: Option<&'a BranchFacts>,
}

/// Decides whether an application may be taken; returns the application as it will be stored.
pub fn decide_application(
    input: ApplicationInput,
    person_id: &str,
    facts: IntakeFacts<'_>,
    policy: &Policy,
    id: String,
    now_ms: i64,
) -> Result<Application, DomainError> {
    check_channel(&input, facts.branch)?;
    if input.kind != AppKind::Temporary
        && let Some(open) = facts.open_applications.iter().find(|a| a.status.is_open() && a.kind != AppKind::Temporary)
    {
        {
            return Err(DomainError::conflict(
                "application_open",
                format!("application {} of this person is still {}", open.id, open.status.as_str()),
                Some(open.status.as_str().to_string()),
            ));
        }
    }
    let replaces = check_kind(input.kind, input.reason, facts.cards)?;
    let mail_address = match input.mail_address.as_deref().map(str::trim) {
        Some(a) if a.chars().count() > MAX_ADDRESS_CHARS => {
            return Err(DomainError::invalid(
                "bad_address",
                "mail_address",
                format!("the address is longer than {MAX_ADDRESS_CHARS} characters"),
            ));
        }
        Some("") | None => None,
        Some(a) => Some(a.to_string()),
    };
    Ok(Application {
        id,
        person_id: person_id.to_string(),
        kind: input.kind,
        channel: input.channel,
        status: AppStatus::Submitted,
        fee_fen: fee_for(input.kind, policy),
        bank_code: input.bank_code,
        branch_code: input.branch_code,
        mail_address,
        reason: input.reason,
        card_no: None,
        replaces_card_no: replaces,
        submitted_at_ms: now_ms,
        updated_at_ms: now_ms,
    })
}

fn check_channel(input: &ApplicationInput, branch: Option<&BranchFacts>) -> Result<(), DomainError> {
    if input.channel == Channel::Online && input.mail_address.as_deref().map(str::trim).unwrap_or("").is_empty() {
        return Err(DomainError::invalid(
            "mail_address_required",
            "mail_address",
            "an online application needs a mailing address",
        ));
    }
    if input.channel.needs_branch() {
        let Some(branch) = branch else {
            return Err(DomainError::invalid(
                "branch_required",
                "branch_code",
                format!("channel {} needs a branch of the bank", input.channel),
            ));
        };
        if branch.bank_code != input.bank_code {
            return Err(DomainError::invalid(
                "branch_of_other_bank",
                "branch_code",
                "the branch belongs to another bank",
            ));
        }
        if input.channel.is_instant() && !branch.has_printer {
            return Err(DomainError::refused(
                "no_printer",
                "this branch has no card printer: instant issuance is not possible here",
            ));
        }
    }
    if input.kind == AppKind::Replacement && input.reason.is_none() {
        return Err(DomainError::invalid(
            "reason_required",
            "reason",
            "a replacement needs a reason: lost, damaged or change_of_bank",
        ));
    }
    if input.channel == Channel::Newborn && input.kind != AppKind::First {
        return Err(DomainError::invalid("bad_kind", "kind", "a newborn application is a first application"));
    }
    Ok(())
}

/// Checks the kind against the person's cards; returns the card number it replaces, if any.
fn check_kind(kind: AppKind, reason: Option<ReplacementReason>, cards: &[Card]) -> Result<Option<String>, DomainError> {
    let live_third = cards.iter().find(|c| c.generation == 3 && !c.temporary && !c.status.is_final());
    let live_second = cards.iter().find(|c| c.generation == 2 && c.status.is_live());
    match kind {
        AppKind::First => {
            if let Some(card) = cards.iter().find(|c| !c.temporary && !c.status.is_final()) {
                return Err(DomainError::conflict(
                    "has_card",
                    format!(
                        "the person already has card {} ({}); apply for an upgrade or a replacement",
                        card.card_no,
                        card.status.as_str()
                    ),
                    Some(card.status.as_str().to_string()),
                ));
            }
            Ok(None)
        }
        AppKind::Upgrade => match (live_second, live_third) {
            (_, Some(third)) => Err(DomainError::conflict(
                "has_card",
                format!("the person already has third-generation card {}", third.card_no),
                Some(third.status.as_str().into()),
            )),
            (Some(second), None) => Ok(Some(second.card_no.to_string())),
            (None, None) => Err(DomainError::refused(
                "nothing_to_upgrade",
                "the person has no usable second-generation card; apply for a first card",
            )),
        },
        AppKind::Replacement => {
            let reason = reason.unwrap_or(ReplacementReason::Lost);
            let wanted = |c: &&Card| {
                !c.temporary
                    && match reason {
                        ReplacementReason::Lost => c.status == CardStatus::Lost,
                        ReplacementReason::Damaged | ReplacementReason::ChangeOfBank => c.status.is_live(),
                    }
            };
            match cards.iter().filter(|c| c.generation == 3).find(wanted) {
                Some(card) => Ok(Some(card.card_no.to_string())),
                None if reason == ReplacementReason::Lost => Err(DomainError::refused(
                    "not_reported_lost",
                    "report the card lost before applying for a replacement",
                )),
                None => Err(DomainError::refused(
                    "nothing_to_replace",
                    "the person has no active third-generation card to replace",
                )),
            }
        }
        AppKind::Temporary => {
            if let Some(live) = cards.iter().find(|c| c.status.is_live()) {
                return Err(DomainError::conflict(
                    "has_card",
                    format!("card {} is usable; no temporary card is needed", live.card_no),
                    Some(live.status.as_str().into()),
                ));
            }
            Ok(None)
        }
    }
}

/// The kinds a person holding `cards` may apply for: exactly those `decide_application` would
/// not refuse for the cards alone (a replacement fits for a lost card, or a usable one that is
/// damaged). Forms offer only these, so nobody is offered 首次申领 while holding a card.
pub fn kinds_that_fit(cards: &[Card]) -> Vec<AppKind> {
    let reasons = [Some(ReplacementReason::Lost), Some(ReplacementReason::Damaged)];
    AppKind::ALL
        .iter()
        .copied()
        .filter(|kind| match kind {
            AppKind::Replacement => reasons.iter().any(|r| check_kind(*kind, *r, cards).is_ok()),
            _ => check_kind(*kind, None, cards).is_ok(),
        })
        .collect()
}

/// The branch an application form starts on: the teller's own branch when it can serve the
/// channel (an instant card needs a printer), else the first branch of the list that can, else
/// the teller's own, else the first. None only for an empty list.
pub fn default_branch<'a>(
    branches: &'a [BranchFacts],
    own: Option<&BranchCode>,
    instant: bool,
) -> Option<&'a BranchFacts> {
    let fits = |b: &&BranchFacts| !instant || b.has_printer;
    let own_branch = branches.iter().find(|b| Some(&b.code) == own);
    own_branch.filter(fits).or_else(|| branches.iter().find(fits)).or(own_branch).or_else(|| branches.first())
}

/// For an online application: did the card ship within the promised working days?
pub fn met_online_promise(submitted_on: Date, shipped_on: Date, policy: &Policy) -> bool {
    working_days_between(submitted_on, shipped_on) <= policy.online_promise_working_days
}

/// A fee is collected only for an application that costs something.
pub fn decide_fee_collection(fee: Fen) -> Result<(), DomainError> {
    if fee.is_positive() { Ok(()) } else { Err(DomainError::refused("no_fee", "this application costs nothing")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_collected_only_when_due() {
        assert!(decide_fee_collection(Fen::new(2000)).is_ok());
        assert_eq!(decide_fee_collection(Fen::ZERO).unwrap_err().code, "no_fee");
    }

    #[test]
    fn every_text_form_is_its_serde_form() {
        use crate::card::CardAction;
        for a in CardAction::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
            assert_eq!(serde_json::from_value::<CardAction>(a.as_str().into()).unwrap(), *a);
        }
        assert_eq!(serde_json::to_value(CardAction::ReportLost).unwrap(), "report-lost");
        for s in Channel::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn step_table_is_exactly_design_3_2() {
        use AppStatus as S;
        use AppStep as T;
        let allowed = [
            (S::Submitted, T::Approve, S::Approved),
            (S::Submitted, T::Reject, S::Rejected),
            (S::AwaitingRemoteStop, T::Reject, S::Rejected),
            (S::AwaitingRemoteStop, T::Withdraw, S::Withdrawn),
            (S::Approved, T::Produce, S::InProduction),
            (S::InProduction, T::Ready, S::ReadyForPickup),
            (S::InProduction, T::Ship, S::Shipped),
            (S::Shipped, T::Deliver, S::Delivered),
            (S::ReadyForPickup, T::Collect, S::Collected),
            (S::Submitted, T::Withdraw, S::Withdrawn),
            (S::Approved, T::Withdraw, S::Withdrawn),
        ];
        for from in AppStatus::ALL {
            for step in AppStep::ALL {
                let expected = allowed.iter().find(|(f, s, _)| f == from && s == step).map(|(_, _, to)| *to);
                match (step_target(*from, *step), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want),
                    (Err(e), None) => {
                        assert_eq!(e.kind, crate::error::ErrorKind::Conflict);
                        assert_eq!(e.current_state.as_deref(), Some(from.as_str()));
                    }
                    (got, want) => panic!("{from:?} {step:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn the_hubs_answer_decides_where_an_approve_leads() {
        use AppStatus as S;
        assert_eq!(approve_after_claim(S::Submitted, ClaimDecision::Go), Ok(S::Approved));
        assert_eq!(approve_after_claim(S::Submitted, ClaimDecision::Wait), Ok(S::AwaitingRemoteStop));
        for from in AppStatus::ALL.iter().filter(|s| **s != S::Submitted) {
            for d in [ClaimDecision::Go, ClaimDecision::Wait] {
                let e = approve_after_claim(*from, d).unwrap_err();
                assert_eq!((e.code, e.current_state.as_deref()), ("illegal_step", Some(from.as_str())));
            }
        }
        assert_eq!(resume_target(S::AwaitingRemoteStop), Ok(S::Approved));
        for from in AppStatus::ALL.iter().filter(|s| **s != S::AwaitingRemoteStop) {
            assert_eq!(resume_target(*from).unwrap_err().code, "illegal_step", "{from:?}");
        }
        assert!(S::AwaitingRemoteStop.is_open(), "a waiting application blocks a second one");
        assert!(needs_national_claim(AppKind::First) && needs_national_claim(AppKind::Upgrade));
        assert!(needs_national_claim(AppKind::Replacement) && !needs_national_claim(AppKind::Temporary));
    }

    #[test]
    fn fees() {
        let p = Policy::default();
        assert_eq!(fee_for(AppKind::Replacement, &p).value(), 2000);
        assert_eq!(fee_for(AppKind::First, &p).value(), 0);
        assert_eq!(fee_for(AppKind::Upgrade, &p).value(), 0);
    }
}

/// Steps that need something the application may lack: a pickup branch for `ready`,
/// a mailing address for `ship`.
pub fn check_step_fits(app: &Application, step: AppStep) -> Result<(), DomainError> {
    match step {
        AppStep::Ready if app.branch_code.is_none() => Err(DomainError::refused(
            "no_pickup_branch",
            "this application names no branch to pick the card up at: ship it instead",
        )),
        AppStep::Ship if app.mail_address.is_none() => Err(DomainError::refused(
            "no_mail_address",
            "this application has no mailing address: make it ready for pickup instead",
        )),
        _ => Ok(()),
    }
}

/// The service promise of an online application (15 working days to ship).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseStatus {
    pub working_days: u32,
    /// Working days used so far (until shipping, or until today if not shipped yet).
    pub working_days_used: u32,
    /// Some(true) shipped in time, Some(false) late (shipped late or already overdue), None still within.
    pub met: Option<bool>,
}

/// Whether an online application kept (or is keeping) its promise; None for other channels.
pub fn online_promise(
    app: &Application,
    timeline: &[TimelineEntry],
    today: Date,
    policy: &Policy,
) -> Option<PromiseStatus> {
    if app.channel != Channel::Online {
        return None;
    }
    let submitted = crate::clock::china_date(app.submitted_at_ms);
    let shipped = timeline.iter().find(|e| e.status == AppStatus::Shipped).map(|e| crate::clock::china_date(e.at_ms));
    let until = shipped.unwrap_or(today);
    let used = working_days_between(submitted, until);
    let promised = policy.online_promise_working_days;
    let met = match shipped {
        Some(_) => Some(used <= promised),
        None if used > promised => Some(false),
        None => None,
    };
    Some(PromiseStatus { working_days: promised, working_days_used: used, met })
}
