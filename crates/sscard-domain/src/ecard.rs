//! The electronic social security card (电子社保卡).
//!
//! One e-card per person, mapped to the person's current card and usable exactly while that
//! card is active. [`decide_sync`] is the rule of what happens to the e-card whenever any card
//! of the person changes state; the store calls it in the same transaction as the card change.
//! Also here: channel sign-ins and family authorizations (亲情服务), who may show and verify a
//! QR code, and which holder attributes a verification discloses to which role.

use crate::access::{Actor, Role};
use crate::application::string_enum;
use crate::card::{Card, CardStatus};
use crate::document::mask_id;
use crate::error::DomainError;
use crate::ids::{CardNo, RegionCode};
use crate::person::Person;
use crate::policy::Policy;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};
use time::Date;

/// Longest channel (app) name, in characters.
pub const MAX_CHANNEL_CHARS: usize = 64;
/// Live channel sign-ins one e-card may hold.
pub const MAX_CHANNELS: usize = 50;
/// Live family authorizations one holder may grant.
pub const MAX_FAMILY: usize = 10;

string_enum!(
    /// Whether the e-card can be shown: always `active` exactly when its card is active.
    EcardStatus { Active => "active", Stopped => "stopped" }
);
string_enum!(
    /// What an authorization lets happen: an app channel signed in, or a relative showing the QR.
    AuthKind { Channel => "channel", Family => "family" }
);
string_enum!(
    /// Whether an authorization still holds.
    AuthStatus { Active => "active", Revoked => "revoked" }
);

/// A stored e-card. `id` is 32 lowercase hex characters (16 random bytes), never the SSN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ecard {
    pub id: String,
    pub person_id: String,
    /// Insured region of the holder.
    pub region: RegionCode,
    /// The card the e-card currently mirrors.
    pub card_no: CardNo,
    pub status: EcardStatus,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Ecard {
    pub fn usable(&self) -> bool {
        self.status == EcardStatus::Active
    }
}

/// A channel sign-in or a family authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub id: String,
    pub ecard_id: String,
    /// The holder who granted it.
    pub person_id: String,
    pub kind: AuthKind,
    /// The app, for channel sign-ins.
    pub channel: Option<String>,
    /// The relative allowed to show the QR, for family authorizations.
    pub grantee_person_id: Option<String>,
    pub status: AuthStatus,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// What happens to a person's e-card after a change to one of their cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcardChange {
    /// Nothing to do (no e-card yet and no active card, or the e-card already agrees).
    Unchanged,
    /// First activation: issue the e-card on this card (`ecard.issued`).
    Issue { card_no: CardNo },
    /// The e-card becomes usable again, on this card (maybe a new one) (`ecard.restored`).
    Restore { card_no: CardNo },
    /// The e-card follows a new active card while staying usable (`ecard.restored`).
    Repoint { card_no: CardNo },
    /// The e-card stops; `reason` is the verification reason code (`ecard.stopped`).
    Stop { card_no: CardNo, reason: Refusal },
    /// Still stopped, but it now mirrors another card (e.g. the lost card was replaced).
    Follow { card_no: CardNo },
}

/// The reason code a card status gives a verifier; `None` for an active card.
pub fn status_reason(status: CardStatus) -> Option<Refusal> {
    match status {
        CardStatus::Active => None,
        CardStatus::Suspended => Some(Refusal::CardSuspended),
        CardStatus::Lost => Some(Refusal::CardLost),
        CardStatus::Stopped => Some(Refusal::CardStopped),
        CardStatus::Cancelled => Some(Refusal::CardCancelled),
        CardStatus::Replaced => Some(Refusal::CardReplaced),
        CardStatus::Dormant => Some(Refusal::CardDormant),
        CardStatus::Produced | CardStatus::Issued => Some(Refusal::CardNotActive),
    }
}

/// Every reason code [`status_reason`] can give.
pub const CARD_REASONS: [Refusal; 7] = [
    Refusal::CardSuspended,
    Refusal::CardLost,
    Refusal::CardStopped,
    Refusal::CardCancelled,
    Refusal::CardReplaced,
    Refusal::CardDormant,
    Refusal::CardNotActive,
];

/// The card an e-card should mirror: the person's active card, else a suspended one, else the
/// card it already mirrors (its status then says why the e-card is stopped).
fn current_card<'a>(ecard: Option<&Ecard>, cards: &'a [Card]) -> Option<&'a Card> {
    cards
        .iter()
        .find(|c| c.status == CardStatus::Active)
        .or_else(|| cards.iter().find(|c| c.status == CardStatus::Suspended))
        .or_else(|| ecard.and_then(|e| cards.iter().find(|c| c.card_no == e.card_no)))
}

/// The e-card rule: given the person's e-card (if issued) and all their cards after a change,
/// what must happen so that the e-card mirrors the current card and is usable exactly while
/// that card is active.
pub fn decide_sync(ecard: Option<&Ecard>, cards: &[Card]) -> EcardChange {
    let Some(card) = current_card(ecard, cards) else {
        return EcardChange::Unchanged;
    };
    let usable = card.status == CardStatus::Active;
    let card_no = card.card_no.clone();
    match ecard {
        None if usable => EcardChange::Issue { card_no },
        None => EcardChange::Unchanged,
        Some(e) => match (e.usable(), usable) {
            (false, true) => EcardChange::Restore { card_no },
            (true, false) => {
                EcardChange::Stop { card_no, reason: status_reason(card.status).unwrap_or(Refusal::CardNotActive) }
            }
            (true, true) if e.card_no != card_no => EcardChange::Repoint { card_no },
            (false, false) if e.card_no != card_no => EcardChange::Follow { card_no },
            _ => EcardChange::Unchanged,
        },
    }
}

/// Whether a QR code may be produced now; the refusal names the card's state.
pub fn decide_qr(ecard: &Ecard, card: &Card) -> Result<(), DomainError> {
    match status_reason(card.status) {
        None if ecard.usable() => Ok(()),
        None => Err(DomainError::conflict(
            "ecard_stopped",
            "the e-card is stopped",
            Some(ecard.status.as_str().to_string()),
        )),
        Some(reason) => Err(DomainError::conflict(
            reason.as_str(),
            format!("card {} is {}: the e-card cannot show a QR code", card.card_no, card.status.as_str()),
            Some(card.status.as_str().to_string()),
        )),
    }
}

/// The verdict of the live check after the signature and expiry passed: `Err(reason code)`.
pub fn live_verdict(ecard: Option<&Ecard>, card: Option<&Card>) -> Result<(), Refusal> {
    let Some(ecard) = ecard else { return Err(Refusal::Revoked) };
    let Some(card) = card else { return Err(Refusal::Revoked) };
    if let Some(reason) = status_reason(card.status) {
        return Err(reason);
    }
    if !ecard.usable() {
        return Err(Refusal::Revoked);
    }
    Ok(())
}

/// The verdict the issuing deployment gives a verifier of another deployment (asked through
/// the hub): the live check, and what a terminal of its own would refuse of the card itself:
/// past its expiry, or a temporary card, which serves only in its own region (and the asking
/// verifier is in another deployment's regions).
pub fn verdict_elsewhere(ecard: Option<&Ecard>, card: Option<&Card>, today: Date) -> Result<(), Refusal> {
    live_verdict(ecard, card)?;
    match card {
        Some(c) if c.expires_on < today => Err(Refusal::CardExpired),
        Some(c) if c.temporary => Err(Refusal::TemporaryCardOtherRegion),
        _ => Ok(()),
    }
}

/// The token flags of a QR code: (retired, minor, temporary card).
pub fn qr_flags(person: &Person, card: &Card, today: Date, policy: &Policy) -> (bool, bool, bool) {
    (person.is_retired(today, policy), person.is_minor(today), card.temporary)
}

/// Show a person's QR code: the person themself (any role linked to them, so staff can show
/// their own for QR login), or a relative holding a live family authorization from them.
pub fn may_show_qr(actor: &Actor, person_id: &str, family: &[Authorization]) -> Result<(), DomainError> {
    if actor.person_id.as_deref() == Some(person_id) {
        return Ok(());
    }
    let Some(me) = actor.person_id.as_deref() else {
        return Err(DomainError::forbidden("only the holder, or a relative they authorized, may show this QR code"));
    };
    let granted = family.iter().any(|a| {
        a.kind == AuthKind::Family
            && a.status == AuthStatus::Active
            && a.person_id == person_id
            && a.grantee_person_id.as_deref() == Some(me)
    });
    if granted {
        Ok(())
    } else {
        Err(DomainError::forbidden("this holder has not authorized you to show their QR code"))
    }
}

/// Manage a person's e-card authorizations: the holder themself.
pub fn may_manage_authorizations(actor: &Actor, person_id: &str) -> Result<(), DomainError> {
    let own = actor.person_id.as_deref() == Some(person_id) && actor.role == Role::Holder;
    if own || matches!(actor.role, Role::Admin | Role::Clerk) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the holder manages their e-card authorizations"))
    }
}

/// Verify QR codes online: staff and terminals.
pub fn may_verify(actor: &Actor) -> Result<(), DomainError> {
    match actor.role {
        Role::Admin | Role::Clerk | Role::Teller | Role::Terminal => Ok(()),
        Role::Holder | Role::Payer => Err(DomainError::forbidden("your role may not verify QR codes")),
    }
}

/// Roles that may log in by scanning their own e-card (实名制扫码登录).
pub fn may_qr_login(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Clerk | Role::Teller)
}

/// Sign the e-card into an app channel: the name is trimmed, 1-64 visible characters; the
/// e-card must be usable; one live sign-in per channel; at most [`MAX_CHANNELS`].
pub fn decide_channel_signin(ecard: &Ecard, channel: &str, existing: &[Authorization]) -> Result<String, DomainError> {
    let name = channel.trim();
    if name.is_empty() || name.chars().count() > MAX_CHANNEL_CHARS || name.chars().any(char::is_control) {
        return Err(DomainError::invalid("bad_channel", "channel", "the channel name must be 1-64 visible characters"));
    }
    if !ecard.usable() {
        return Err(DomainError::conflict(
            "ecard_stopped",
            "the e-card is stopped: it cannot be signed into a channel",
            Some(ecard.status.as_str().into()),
        ));
    }
    let live: Vec<&Authorization> =
        existing.iter().filter(|a| a.kind == AuthKind::Channel && a.status == AuthStatus::Active).collect();
    if live.iter().any(|a| a.channel.as_deref() == Some(name)) {
        return Err(DomainError::conflict(
            "already_authorized",
            format!("the e-card is already signed into {name}"),
            Some("active".into()),
        ));
    }
    if live.len() >= MAX_CHANNELS {
        return Err(DomainError::refused("too_many_channels", format!("at most {MAX_CHANNELS} channels at once")));
    }
    Ok(name.to_string())
}

/// Let `grantee` show `grantor`'s QR code: another registered person, not already authorized,
/// at most [`MAX_FAMILY`] at once.
pub fn decide_family_grant(grantor: &Person, grantee: &Person, existing: &[Authorization]) -> Result<(), DomainError> {
    if grantor.id == grantee.id {
        return Err(DomainError::invalid("self_authorization", "grantee_person_id", "you cannot authorize yourself"));
    }
    let live: Vec<&Authorization> =
        existing.iter().filter(|a| a.kind == AuthKind::Family && a.status == AuthStatus::Active).collect();
    if live.iter().any(|a| a.grantee_person_id.as_deref() == Some(grantee.id.as_str())) {
        return Err(DomainError::conflict(
            "already_authorized",
            "this relative is already authorized",
            Some("active".into()),
        ));
    }
    if live.len() >= MAX_FAMILY {
        return Err(DomainError::refused("too_many_relatives", format!("at most {MAX_FAMILY} relatives at once")));
    }
    Ok(())
}

/// Revoke an authorization: only a live one.
pub fn decide_revoke(auth: &Authorization) -> Result<(), DomainError> {
    if auth.status == AuthStatus::Revoked {
        return Err(DomainError::conflict(
            "already_revoked",
            "this authorization was already revoked",
            Some("revoked".into()),
        ));
    }
    Ok(())
}

/// Holder attributes a verification returns; absent fields are not disclosed to the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// Masked SSN (3502**********123X); never the full number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssn_masked: Option<String>,
    /// The full name for staff, the masked name (张**) for terminals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Insured region.
    pub region: String,
    pub retired: bool,
    pub minor: bool,
    pub temporary: bool,
}

/// What a verifier of `role` may learn about the holder. Staff and tellers see the masked SSN
/// and the name; terminals only the masked name, region and flags; nobody the full SSN.
pub fn disclose(
    role: Role,
    person: &Person,
    card: &Card,
    today: Date,
    policy: &Policy,
) -> Result<Attributes, DomainError> {
    let (retired, minor, temporary) = qr_flags(person, card, today, policy);
    let base = Attributes { region: person.region.to_string(), retired, minor, temporary, ..Default::default() };
    match role {
        Role::Admin | Role::Clerk | Role::Teller => Ok(Attributes {
            ssn_masked: Some(mask_id(person.ssn.as_str())),
            name: Some(person.name.as_str().to_string()),
            ..base
        }),
        Role::Terminal => Ok(Attributes { name: Some(person.name.masked()), ..base }),
        Role::Holder | Role::Payer => Err(DomainError::forbidden("your role may not verify QR codes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocType, Sex, Ssn};
    use crate::ids::BankCode;
    use crate::person::PersonName;

    fn card(no: &str, status: CardStatus) -> Card {
        Card {
            card_no: CardNo::parse(no).unwrap(),
            person_id: "p1".into(),
            status,
            generation: 3,
            temporary: false,
            bank_code: BankCode::parse("ICBC").unwrap(),
            pan: None,
            card_id_code: None,
            region: RegionCode::parse("350203").unwrap(),
            channel: None,
            application_id: None,
            issued_on: None,
            expires_on: Date::from_calendar_date(2035, time::Month::January, 1).unwrap(),
            pin_hash: None,
            suspended_at_ms: None,
            status_changed_at_ms: 0,
            produced_at_ms: 0,
            cancel_reason: None,
            destroyed: false,
        }
    }

    fn ecard(no: &str, status: EcardStatus) -> Ecard {
        Ecard {
            id: "00112233445566778899aabbccddeeff".into(),
            person_id: "p1".into(),
            region: RegionCode::parse("350203").unwrap(),
            card_no: CardNo::parse(no).unwrap(),
            status,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn person(id: &str, birth: (i32, u8)) -> Person {
        Person {
            id: id.into(),
            ssn: Ssn::parse("11010519491231002X").unwrap(),
            doc_type: DocType::ResidentId,
            doc_number: "11010519491231002X".into(),
            name: PersonName::parse("张小明").unwrap(),
            sex: Sex::Female,
            birth_date: Date::from_calendar_date(birth.0, time::Month::try_from(birth.1).unwrap(), 1).unwrap(),
            region: RegionCode::parse("350203").unwrap(),
            guardian: None,
            pension_recorded: false,
            created_at_ms: 0,
        }
    }

    const A: &str = "A00000001";
    const B: &str = "A00000002";

    #[test]
    fn first_activation_issues_and_nothing_before() {
        assert_eq!(decide_sync(None, &[card(A, CardStatus::Issued)]), EcardChange::Unchanged);
        assert_eq!(decide_sync(None, &[]), EcardChange::Unchanged);
        assert_eq!(
            decide_sync(None, &[card(A, CardStatus::Active)]),
            EcardChange::Issue { card_no: CardNo::parse(A).unwrap() }
        );
    }

    #[test]
    fn every_non_active_state_stops_with_its_reason() {
        for (status, reason) in [
            (CardStatus::Suspended, Refusal::CardSuspended),
            (CardStatus::Lost, Refusal::CardLost),
            (CardStatus::Stopped, Refusal::CardStopped),
            (CardStatus::Cancelled, Refusal::CardCancelled),
            (CardStatus::Replaced, Refusal::CardReplaced),
            (CardStatus::Dormant, Refusal::CardDormant),
        ] {
            let e = ecard(A, EcardStatus::Active);
            assert_eq!(
                decide_sync(Some(&e), &[card(A, status)]),
                EcardChange::Stop { card_no: CardNo::parse(A).unwrap(), reason },
                "{status}"
            );
            assert_eq!(live_verdict(Some(&e), Some(&card(A, status))), Err(reason));
            assert!(CARD_REASONS.contains(&reason));
        }
    }

    #[test]
    fn another_deployment_hears_of_expiry_and_temporary_cards() {
        let e = ecard(A, EcardStatus::Active);
        let today = Date::from_calendar_date(2030, time::Month::June, 1).unwrap();
        let live = card(A, CardStatus::Active);
        assert_eq!(verdict_elsewhere(Some(&e), Some(&live), today), Ok(()));
        // The last day of validity still serves; the day after does not.
        let last_day = Card { expires_on: today, ..live.clone() };
        assert_eq!(verdict_elsewhere(Some(&e), Some(&last_day), today), Ok(()));
        let expired = Card { expires_on: today.previous_day().unwrap(), ..live.clone() };
        assert_eq!(verdict_elsewhere(Some(&e), Some(&expired), today), Err(Refusal::CardExpired));
        assert_eq!(live_verdict(Some(&e), Some(&expired)), Ok(()), "the live check alone does not look at expiry");
        let temporary = Card { temporary: true, ..live.clone() };
        assert_eq!(verdict_elsewhere(Some(&e), Some(&temporary), today), Err(Refusal::TemporaryCardOtherRegion));
        // The card's state comes first.
        let lost = Card { status: CardStatus::Lost, ..expired };
        assert_eq!(verdict_elsewhere(Some(&e), Some(&lost), today), Err(Refusal::CardLost));
        assert_eq!(verdict_elsewhere(None, Some(&live), today), Err(Refusal::Revoked));
    }

    #[test]
    fn unsuspend_restores_and_replacement_repoints() {
        let stopped = ecard(A, EcardStatus::Stopped);
        assert_eq!(
            decide_sync(Some(&stopped), &[card(A, CardStatus::Active)]),
            EcardChange::Restore { card_no: CardNo::parse(A).unwrap() }
        );
        // The lost card A is replaced by B: the e-card follows B and is usable again.
        let cards = [card(A, CardStatus::Replaced), card(B, CardStatus::Active)];
        assert_eq!(decide_sync(Some(&stopped), &cards), EcardChange::Restore { card_no: CardNo::parse(B).unwrap() });
        let active = ecard(A, EcardStatus::Active);
        assert_eq!(decide_sync(Some(&active), &cards), EcardChange::Repoint { card_no: CardNo::parse(B).unwrap() });
        // An unrelated card changing does not touch an e-card that agrees.
        let on_b = ecard(B, EcardStatus::Active);
        assert_eq!(
            decide_sync(Some(&on_b), &[card(A, CardStatus::Cancelled), card(B, CardStatus::Active)]),
            EcardChange::Unchanged
        );
        // A new card made while the old one is active changes nothing.
        assert_eq!(
            decide_sync(Some(&active), &[card(A, CardStatus::Active), card(B, CardStatus::Dormant)]),
            EcardChange::Unchanged
        );
    }

    #[test]
    fn qr_only_while_active() {
        let e = ecard(A, EcardStatus::Active);
        assert!(decide_qr(&e, &card(A, CardStatus::Active)).is_ok());
        let err = decide_qr(&ecard(A, EcardStatus::Stopped), &card(A, CardStatus::Suspended)).unwrap_err();
        assert_eq!(err.code, "card_suspended");
        assert_eq!(err.current_state.as_deref(), Some("suspended"));
    }

    fn actor(role: Role, person: Option<&str>) -> Actor {
        Actor { name: "u".into(), role, person_id: person.map(str::to_string), bank_code: None }
    }

    fn family(grantor: &str, grantee: &str, status: AuthStatus) -> Authorization {
        Authorization {
            id: "a1".into(),
            ecard_id: "e".into(),
            person_id: grantor.into(),
            kind: AuthKind::Family,
            channel: None,
            grantee_person_id: Some(grantee.into()),
            status,
            created_at_ms: 0,
            revoked_at_ms: None,
        }
    }

    #[test]
    fn family_authorization_decides_who_shows_the_qr() {
        let relative = actor(Role::Holder, Some("p2"));
        assert!(may_show_qr(&actor(Role::Holder, Some("p1")), "p1", &[]).is_ok());
        assert!(may_show_qr(&actor(Role::Clerk, Some("p1")), "p1", &[]).is_ok());
        assert!(may_show_qr(&relative, "p1", &[]).is_err());
        assert!(may_show_qr(&relative, "p1", &[family("p1", "p2", AuthStatus::Active)]).is_ok());
        assert!(may_show_qr(&relative, "p1", &[family("p1", "p2", AuthStatus::Revoked)]).is_err());
        assert!(may_show_qr(&relative, "p1", &[family("p1", "p3", AuthStatus::Active)]).is_err());
        assert!(may_show_qr(&actor(Role::Admin, None), "p1", &[]).is_err());
    }

    #[test]
    fn grants_and_sign_ins_are_checked() {
        let p1 = person("p1", (1990, 1));
        let p2 = person("p2", (1992, 1));
        assert!(decide_family_grant(&p1, &p2, &[]).is_ok());
        assert_eq!(decide_family_grant(&p1, &p1, &[]).unwrap_err().code, "self_authorization");
        let live = [family("p1", "p2", AuthStatus::Active)];
        assert_eq!(decide_family_grant(&p1, &p2, &live).unwrap_err().code, "already_authorized");
        let e = ecard(A, EcardStatus::Active);
        assert_eq!(decide_channel_signin(&e, "  alipay ", &[]).unwrap(), "alipay");
        assert_eq!(decide_channel_signin(&e, "", &[]).unwrap_err().code, "bad_channel");
        assert_eq!(decide_channel_signin(&ecard(A, EcardStatus::Stopped), "x", &[]).unwrap_err().code, "ecard_stopped");
        let mut revoked = family("p1", "p2", AuthStatus::Revoked);
        assert_eq!(decide_revoke(&revoked).unwrap_err().code, "already_revoked");
        revoked.status = AuthStatus::Active;
        assert!(decide_revoke(&revoked).is_ok());
    }

    #[test]
    fn disclosure_never_gives_the_full_ssn() {
        let today = Date::from_calendar_date(2026, time::Month::November, 24).unwrap();
        let p = person("p1", (1949, 12));
        let c = card(A, CardStatus::Active);
        let staff = disclose(Role::Clerk, &p, &c, today, &Policy::default()).unwrap();
        assert_eq!(staff.ssn_masked.as_deref(), Some("1101**********002X"));
        assert_eq!(staff.name.as_deref(), Some("张小明"));
        assert!(staff.retired && !staff.minor);
        let term = disclose(Role::Terminal, &p, &c, today, &Policy::default()).unwrap();
        assert_eq!(term.ssn_masked, None);
        assert_eq!(term.name.as_deref(), Some("张**"));
        assert_eq!(term.region, "350203");
        assert!(disclose(Role::Holder, &p, &c, today, &Policy::default()).is_err());
        let json = serde_json::to_string(&term).unwrap();
        assert!(!json.contains("11010519491231002X") && !json.contains("ssn"));
        let child = person("p3", (2015, 6));
        assert!(disclose(Role::Terminal, &child, &c, today, &Policy::default()).unwrap().minor);
    }
}
