//! The hub's rules (DESIGN §7.1, docs/NATION.md): the national index entry of a person, how
//! each deployment's event changes it, whether a deployment may take a person on (a claim),
//! when a waiting remote stop is released, and what an e-card event means for the merged
//! revocation feed.
//!
//! The index keeps, per person (keyed by the national blind index of the SSN), what each
//! deployment *holds* of them: cards that are or may still become live (produced, issued,
//! dormant, active, suspended) and an application in making (approved up to shipped). It is
//! built from the facts the deployments publish, so even a person held by two deployments
//! (cards from before the nation existed) is seen as it is, and a claim waits for both.
use super::wire::{DeploymentCode, NationalEvent};
use crate::application::AppStatus;
use crate::card::CardStatus;
use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Cards kept per deployment and person; a person has at most a live card and its
/// replacement in making, so more means bad input and the oldest are dropped.
pub const MAX_HELD_CARDS: usize = 8;
/// Region prefixes a deployment may serve.
pub const MAX_REGIONS: usize = 64;
/// Longest deployment name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest deployment URL, in bytes.
pub const MAX_URL_BYTES: usize = 500;

/// A card one deployment holds of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCard {
    pub card_no: String,
    pub status: CardStatus,
}

/// What one deployment holds of a person: its own person id, its cards that are or may
/// become live, and its application in making.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub person_id: String,
    #[serde(default)]
    pub cards: Vec<HeldCard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

impl Holding {
    /// Holds nothing that could become a second live card.
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty() && self.application_id.is_none()
    }
    /// The card that is live now (active or suspended), if any.
    pub fn live_card(&self) -> Option<&HeldCard> {
        self.cards.iter().find(|c| c.status.is_live())
    }
}

/// A person's row of the national index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub person_index: String,
    /// Only deployments that hold something; empty holdings are removed.
    pub holdings: BTreeMap<DeploymentCode, Holding>,
}

impl IndexEntry {
    pub fn new(person_index: &str) -> Self {
        IndexEntry { person_index: person_index.to_string(), holdings: BTreeMap::new() }
    }
    /// The deployment holding the person (the first in code order if, against the rule,
    /// several do).
    pub fn holder(&self) -> Option<&DeploymentCode> {
        self.holdings.keys().next()
    }
    /// A deployment other than `me` that holds the person.
    pub fn other_holder(&self, me: &DeploymentCode) -> Option<&DeploymentCode> {
        self.holdings.keys().find(|d| *d != me)
    }
    pub fn holds(&self, d: &DeploymentCode) -> bool {
        self.holdings.contains_key(d)
    }
    fn holding_mut(&mut self, d: &DeploymentCode, person_id: &str) -> &mut Holding {
        let h = self.holdings.entry(d.clone()).or_default();
        if !person_id.is_empty() {
            h.person_id = person_id.to_string();
        }
        h
    }
    fn prune(&mut self) {
        self.holdings.retain(|_, h| !h.is_empty());
    }
}

/// Whether a deployment may take a person on now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Nobody else holds the person: the claimant becomes (or stays) a holder.
    Go,
    /// `holder` holds a live card or a card in making: it must release the person first.
    Wait { holder: DeploymentCode },
}

/// A deployment may take a person on only when no OTHER deployment holds a card that is or
/// may become live, or an application in making. Its own holdings never block it (its own
/// replacement or upgrade is its own rule).
pub fn decide_claim(entry: &IndexEntry, claimant: &DeploymentCode) -> ClaimDecision {
    match entry.other_holder(claimant) {
        None => ClaimDecision::Go,
        Some(holder) => ClaimDecision::Wait { holder: holder.clone() },
    }
}

/// The claimant takes the person on for `application_id` (after [`ClaimDecision::Go`], or
/// when its waiting remote stop is released): the card is in making there from now on, so
/// every later claim by another deployment waits.
pub fn take(entry: &mut IndexEntry, claimant: &DeploymentCode, person_id: &str, application_id: &str) {
    entry.holding_mut(claimant, person_id).application_id = Some(application_id.to_string());
}

/// A waiting remote stop requested by `requester` is released once no other deployment holds
/// the person any more.
pub fn stop_released(entry: &IndexEntry, requester: &DeploymentCode) -> bool {
    entry.other_holder(requester).is_none()
}

/// What one event says about a person's holdings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A card now has this status (held while it is or may become live).
    Card { card_no: String, status: CardStatus },
    /// An application is in making.
    Making { application_id: String },
    /// An application ended (rejected, withdrawn, handed over).
    Ended { application_id: String },
    /// Nothing the index keeps.
    None,
}

/// Statuses of an application whose card is being made: the claim was granted and the
/// deployment approved it.
fn in_making(s: AppStatus) -> bool {
    matches!(s, AppStatus::Approved | AppStatus::InProduction | AppStatus::ReadyForPickup | AppStatus::Shipped)
}

/// A card status a card can be held in: live, or on its way to being live.
fn held(s: CardStatus) -> bool {
    matches!(
        s,
        CardStatus::Produced | CardStatus::Issued | CardStatus::Dormant | CardStatus::Active | CardStatus::Suspended
    )
}

/// The card status an event of kind `card.*` leaves its card in.
fn card_status_after(ev: &NationalEvent) -> Option<CardStatus> {
    let by_kind = match ev.kind.as_str() {
        "card.produced" => Some(CardStatus::Produced),
        "card.issued" => Some(CardStatus::Issued),
        "card.activated" | "card.unsuspended" => Some(CardStatus::Active),
        "card.suspended" => Some(CardStatus::Suspended),
        "card.dormant" => Some(CardStatus::Dormant),
        "card.lost" => Some(CardStatus::Lost),
        "card.stopped" => Some(CardStatus::Stopped),
        "card.cancelled" => Some(CardStatus::Cancelled),
        "card.replaced" => Some(CardStatus::Replaced),
        _ => None,
    };
    // An imported card says its status; any other card event that says where it went is believed.
    by_kind.or_else(|| {
        ["status", "to"].iter().find_map(|k| ev.payload.get(*k).and_then(|v| v.as_str()).and_then(CardStatus::parse))
    })
}

/// What `ev` says about its person's holdings at its deployment.
pub fn effect_of(ev: &NationalEvent) -> Effect {
    match ev.entity.as_str() {
        "card" => match card_status_after(ev) {
            Some(status) => Effect::Card { card_no: ev.entity_id.clone(), status },
            None => Effect::None,
        },
        "application" => {
            let Some(status) = ev.kind.strip_prefix("application.").and_then(AppStatus::parse) else {
                // Fees, waivers and statuses this hub does not know (such as a wait for a
                // remote stop) change nothing: only making and ending do.
                return Effect::None;
            };
            let application_id = ev.entity_id.clone();
            if in_making(status) {
                Effect::Making { application_id }
            } else if status.is_open() {
                Effect::None
            } else {
                Effect::Ended { application_id }
            }
        }
        _ => Effect::None,
    }
}

/// Applies one deployment's event to the person's entry; true when the entry changed.
pub fn apply_event(entry: &mut IndexEntry, ev: &NationalEvent) -> bool {
    let before = entry.clone();
    match effect_of(ev) {
        Effect::None => return false,
        Effect::Card { card_no, status } => {
            let h = entry.holding_mut(&ev.deployment, &ev.person_id);
            h.cards.retain(|c| c.card_no != card_no);
            if held(status) {
                h.cards.push(HeldCard { card_no, status });
                if h.cards.len() > MAX_HELD_CARDS {
                    h.cards.remove(0);
                }
            }
        }
        Effect::Making { application_id } => {
            entry.holding_mut(&ev.deployment, &ev.person_id).application_id = Some(application_id);
        }
        Effect::Ended { application_id } => {
            let h = entry.holding_mut(&ev.deployment, &ev.person_id);
            if h.application_id.as_deref() == Some(application_id.as_str()) {
                h.application_id = None;
            }
        }
    }
    entry.prune();
    *entry != before
}

/// An e-card event's change to the merged revocation feed: (e-card id, usable now).
pub fn revocation_change(ev: &NationalEvent) -> Option<(String, bool)> {
    if ev.entity != "ecard" {
        return None;
    }
    let usable = ev.payload.get("usable")?.as_bool()?;
    let id = ev.payload.get("ecard_id").and_then(|v| v.as_str()).unwrap_or(&ev.entity_id);
    Some((id.to_string(), usable))
}

/// A deployment as registered at the hub (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentInfo {
    pub code: DeploymentCode,
    pub name: String,
    /// Region prefixes it serves (2 to 6 digits each, e.g. "3502").
    pub regions: Vec<String>,
    /// Its base URL (http or https).
    pub url: String,
}

/// Parses the parts of a deployment given at registration, naming the field at fault.
pub fn parse_deployment(code: &str, name: &str, regions: &str, url: &str) -> Result<DeploymentInfo, DomainError> {
    let code =
        DeploymentCode::parse(code.trim()).map_err(|e| DomainError::invalid("bad_code", "code", e.to_string()))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(DomainError::invalid("bad_name", "name", format!("a name is 1-{MAX_NAME_CHARS} characters")));
    }
    let regions: Vec<String> = regions.split(',').map(|r| r.trim().to_string()).collect();
    let region_ok = |r: &String| (2..=6).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit());
    if regions.len() > MAX_REGIONS || !regions.iter().all(region_ok) {
        return Err(DomainError::invalid(
            "bad_regions",
            "regions",
            format!("regions are 1-{MAX_REGIONS} region prefixes of 2-6 digits, comma separated (3502,3505)"),
        ));
    }
    let url = url.trim().trim_end_matches('/');
    let scheme_ok = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).is_some_and(|h| !h.is_empty());
    if !scheme_ok || url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid("bad_url", "url", "the deployment's URL is http(s)://host[:port][/path]"));
    }
    Ok(DeploymentInfo { code, name: name.to_string(), regions, url: url.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(s: &str) -> DeploymentCode {
        DeploymentCode::parse(s).unwrap()
    }

    fn ev(d: &str, entity: &str, id: &str, kind: &str, payload: serde_json::Value) -> NationalEvent {
        NationalEvent {
            deployment: code(d),
            seq: 1,
            at_ms: 0,
            kind: kind.into(),
            entity: entity.into(),
            entity_id: id.into(),
            person_id: format!("p-{d}"),
            person_index: Some("ix".into()),
            region: "350200".into(),
            payload,
        }
    }

    fn card(d: &str, no: &str, kind: &str) -> NationalEvent {
        ev(d, "card", no, kind, json!({}))
    }

    fn app(d: &str, id: &str, kind: &str) -> NationalEvent {
        ev(d, "application", id, kind, json!({}))
    }

    fn entry_with(events: &[NationalEvent]) -> IndexEntry {
        let mut e = IndexEntry::new("ix");
        for ev in events {
            apply_event(&mut e, ev);
        }
        e
    }

    #[test]
    fn nobody_holding_lets_any_deployment_go() {
        assert_eq!(decide_claim(&IndexEntry::new("ix"), &code("XM")), ClaimDecision::Go);
    }

    #[test]
    fn a_live_card_elsewhere_makes_a_claim_wait() {
        for kind in ["card.activated", "card.suspended", "card.unsuspended"] {
            let e = entry_with(&[card("FZ", "C1", kind)]);
            assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Wait { holder: code("FZ") }, "{kind}");
        }
    }

    #[test]
    fn a_card_in_making_elsewhere_makes_a_claim_wait() {
        for kind in ["card.produced", "card.issued", "card.dormant"] {
            let e = entry_with(&[card("FZ", "C1", kind)]);
            assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Wait { holder: code("FZ") }, "{kind}");
        }
        for kind in ["application.approved", "application.in_production", "application.shipped"] {
            let e = entry_with(&[app("FZ", "A1", kind)]);
            assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Wait { holder: code("FZ") }, "{kind}");
        }
    }

    #[test]
    fn a_claim_granted_elsewhere_makes_the_next_claim_wait() {
        let mut e = IndexEntry::new("ix");
        take(&mut e, &code("FZ"), "p1", "A1");
        assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Wait { holder: code("FZ") });
        assert_eq!(decide_claim(&e, &code("FZ")), ClaimDecision::Go, "its own holding never blocks it");
    }

    #[test]
    fn a_submitted_application_elsewhere_does_not_block() {
        let e = entry_with(&[app("FZ", "A1", "application.submitted")]);
        assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Go);
    }

    #[test]
    fn final_cards_elsewhere_do_not_block() {
        for kind in ["card.stopped", "card.cancelled", "card.replaced", "card.lost"] {
            let e = entry_with(&[card("FZ", "C1", "card.activated"), card("FZ", "C1", kind)]);
            assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Go, "{kind}");
            assert!(e.holdings.is_empty(), "{kind}: {e:?}");
        }
    }

    #[test]
    fn an_ended_application_elsewhere_no_longer_blocks() {
        for kind in ["application.withdrawn", "application.rejected", "application.collected", "application.delivered"]
        {
            let e = entry_with(&[app("FZ", "A1", "application.approved"), app("FZ", "A1", kind)]);
            assert_eq!(decide_claim(&e, &code("XM")), ClaimDecision::Go, "{kind}");
        }
    }

    #[test]
    fn an_unknown_open_status_keeps_the_application_held() {
        let mut e = IndexEntry::new("ix");
        take(&mut e, &code("XM"), "p1", "A1");
        assert!(!apply_event(&mut e, &app("XM", "A1", "application.awaiting_remote_stop")));
        assert!(!apply_event(&mut e, &app("XM", "A1", "application.fee_collected")));
        assert!(e.holds(&code("XM")));
    }

    #[test]
    fn a_replacement_is_held_until_both_cards_are_final() {
        let mut e = entry_with(&[card("FZ", "OLD", "card.activated"), card("FZ", "NEW", "card.produced")]);
        assert_eq!(e.holdings[&code("FZ")].cards.len(), 2);
        apply_event(&mut e, &card("FZ", "OLD", "card.stopped"));
        assert!(!stop_released(&e, &code("XM")), "the new card may still become live");
        apply_event(&mut e, &card("FZ", "NEW", "card.cancelled"));
        assert!(stop_released(&e, &code("XM")));
    }

    #[test]
    fn a_stop_is_released_only_when_no_other_deployment_holds() {
        let mut e = entry_with(&[card("FZ", "C1", "card.activated"), card("QZ", "C9", "card.activated")]);
        take(&mut e, &code("XM"), "p1", "A1");
        assert!(!stop_released(&e, &code("XM")));
        apply_event(&mut e, &card("FZ", "C1", "card.stopped"));
        assert!(!stop_released(&e, &code("XM")), "QZ still holds a live card");
        apply_event(&mut e, &card("QZ", "C9", "card.stopped"));
        assert!(stop_released(&e, &code("XM")), "the requester's own holding never blocks it");
    }

    #[test]
    fn an_event_applied_twice_changes_nothing_the_second_time() {
        let mut e = IndexEntry::new("ix");
        let ev = card("FZ", "C1", "card.activated");
        assert!(apply_event(&mut e, &ev));
        assert!(!apply_event(&mut e, &ev));
    }

    #[test]
    fn an_imported_card_is_held_by_the_status_it_says() {
        let e = entry_with(&[ev("FZ", "card", "C1", "card.imported", json!({ "generation": 2, "status": "active" }))]);
        assert_eq!(e.holdings[&code("FZ")].live_card().map(|c| c.card_no.as_str()), Some("C1"));
        let e = entry_with(&[ev("FZ", "card", "C1", "card.imported", json!({ "status": "cancelled" }))]);
        assert!(e.holdings.is_empty());
    }

    #[test]
    fn other_events_change_nothing() {
        let mut e = IndexEntry::new("ix");
        assert!(!apply_event(&mut e, &ev("FZ", "ecard", "E1", "ecard.issued", json!({ "usable": true }))));
        assert!(!apply_event(&mut e, &ev("FZ", "person", "P1", "person.registered", json!({}))));
        assert!(!apply_event(&mut e, &card("FZ", "C1", "card.something_new")));
        assert!(e.holdings.is_empty());
    }

    #[test]
    fn ecard_events_feed_the_revocations() {
        let stop = ev("FZ", "ecard", "E1", "ecard.stopped", json!({ "ecard_id": "E1", "usable": false }));
        assert_eq!(revocation_change(&stop), Some(("E1".into(), false)));
        let back = ev("FZ", "ecard", "E1", "ecard.restored", json!({ "usable": true }));
        assert_eq!(revocation_change(&back), Some(("E1".into(), true)));
        assert_eq!(revocation_change(&card("FZ", "C1", "card.stopped")), None);
        assert_eq!(revocation_change(&ev("FZ", "ecard", "E1", "ecard.x", json!({}))), None);
    }

    #[test]
    fn deployments_are_parsed_naming_the_field_at_fault() {
        let d = parse_deployment("XM", " Xiamen ", "3502, 3505", "https://xm.example/").unwrap();
        assert_eq!(d.regions, ["3502", "3505"]);
        assert_eq!(d.url, "https://xm.example");
        let field = |r: Result<DeploymentInfo, DomainError>| r.unwrap_err().field;
        assert_eq!(field(parse_deployment("xm", "X", "3502", "http://a")), Some("code"));
        assert_eq!(field(parse_deployment("XM", "", "3502", "http://a")), Some("name"));
        assert_eq!(field(parse_deployment("XM", "X", "35a2", "http://a")), Some("regions"));
        assert_eq!(field(parse_deployment("XM", "X", "", "http://a")), Some("regions"));
        assert_eq!(field(parse_deployment("XM", "X", "3502", "ftp://a")), Some("url"));
        assert_eq!(field(parse_deployment("XM", "X", "3502", "http://")), Some("url"));
    }
}
