//! Cross-province services (跨省通办, DESIGN §7.1): a request one deployment takes for a
//! person whose card another deployment decides on, forwarded through the hub over HTTP.
//!
//! The forwarding deployment sends a typed [`ForwardOp`] (never a path to proxy) with the
//! caller's username and kind; the hub picks the deciding deployment ([`route`]) and passes
//! the request on as an [`Inbound`], naming the sender and the decider's own person id; the
//! decider runs it under its own rules, recording the actor as `<from>/<username>`
//! ([`remote_actor_name`]).
use super::hub::{DeploymentInfo, IndexEntry};
use super::medical::{self, RemoteBill};
use super::wire::DeploymentCode;
use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// Largest forwarded request or answer body, in bytes.
pub const MAX_FORWARD_BYTES: usize = 64 * 1024;
/// Longest caller username carried along (the local usernames are shorter).
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest application or e-card id carried along.
pub const MAX_ID_CHARS: usize = 64;

/// The card actions a holder or a desk may ask of another deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteCardAction {
    Suspend,
    Unsuspend,
    ReportLost,
    Activate,
    Stop,
}

impl RemoteCardAction {
    /// From the path segment of `POST /national/persons/{ssn}/cards/{action}`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "suspend" => Self::Suspend,
            "unsuspend" => Self::Unsuspend,
            "report-lost" => Self::ReportLost,
            "activate" => Self::Activate,
            "stop" => Self::Stop,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Unsuspend => "unsuspend",
            Self::ReportLost => "report-lost",
            Self::Activate => "activate",
            Self::Stop => "stop",
        }
    }
}

/// A mailed application's fields, as the deciding deployment's `POST /applications` takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailedApplication {
    /// The person's SSN: the deployment of the insured region finds its person by it (the hub
    /// passes it on and keeps nothing of it).
    pub ssn: String,
    /// `first` or `replacement`.
    pub kind: String,
    pub bank_code: String,
    pub mail_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What is asked of the deciding deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ForwardOp {
    /// Which card the person has there, its status, applications in flight (masked).
    PersonStatus { person_index: String },
    CardAction {
        person_index: String,
        action: RemoteCardAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pin: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A mailed first or replacement application: to the holder of the person if there is
    /// one, else to the deployment serving `region` (the insured region).
    Apply {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person_index: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        application: MailedApplication,
    },
    /// An application's production timeline at `deployment`.
    /// `person_index` names the holder asking, so the decider knows whose application it may show.
    Progress {
        deployment: DeploymentCode,
        application_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person_index: Option<String>,
    },
    /// Whether an e-card of the deployment owning `key_id` is usable now.
    EcardStatus { key_id: i64, ecard_id: String },
    /// A hospital's bill of another deployment's person (跨省异地就医, [`medical`]): to the
    /// owner of the QR's key, or the deployment serving the card identification code's region.
    /// The hub keeps its clearing entry on the way back.
    MedicalSettle { bill: RemoteBill },
    /// The refund of a bill the hub cleared: to the deployment its clearing entry names.
    MedicalRefund { hospital: String, bill_id: String },
}

impl ForwardOp {
    /// The medical bills, which the hub settles through its clearing ledger
    /// (`sscard_app::nation_medical`) rather than passing the answer on untouched.
    pub fn is_medical(&self) -> bool {
        matches!(self, ForwardOp::MedicalSettle { .. } | ForwardOp::MedicalRefund { .. })
    }
}

/// Whom the forwarding deployment served: staff at its desk (for a walk-in) or the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    Staff,
    Holder,
    /// A hospital's medical terminal: the medical bills only.
    Terminal,
}

/// The caller as the forwarding deployment authenticated them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub username: String,
    pub kind: CallerKind,
}

/// What a deployment posts to the hub (`POST /api/v1/hub/forward`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardRequest {
    pub caller: Caller,
    #[serde(flatten)]
    pub op: ForwardOp,
}

/// What the hub posts to the deciding deployment (`POST /api/v1/hub-inbound`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// The deployment the request came from (authenticated by the hub).
    pub from: DeploymentCode,
    pub caller: Caller,
    /// The decider's own person id, from the national index (person_status, card_action and
    /// an apply to the holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(flatten)]
    pub op: ForwardOp,
}

/// Where the hub sends a request: the deciding deployment and its own id of the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub to: DeploymentCode,
    pub person_id: Option<String>,
}

fn not_held() -> DomainError {
    DomainError::refused("person_not_held", "no deployment holds a card of this person")
}

/// Checks the request's own fields (lengths, hex index, username) before anything is done.
pub fn check(req: &ForwardRequest) -> Result<(), DomainError> {
    let name = &req.caller.username;
    if name.is_empty()
        || name.chars().count() > MAX_USERNAME_CHARS
        || name.contains('/')
        || name.chars().any(char::is_control)
    {
        return Err(DomainError::invalid("bad_username", "caller", "a caller username is 1-64 characters without '/'"));
    }
    let index_ok = |ix: &str| ix.len() == 64 && ix.bytes().all(|b| b.is_ascii_hexdigit());
    let id_ok = |id: &str| !id.is_empty() && id.len() <= MAX_ID_CHARS && id.bytes().all(|b| b.is_ascii_graphic());
    let ok = match &req.op {
        ForwardOp::PersonStatus { person_index } | ForwardOp::CardAction { person_index, .. } => index_ok(person_index),
        ForwardOp::Apply { person_index, region, .. } => {
            person_index.as_deref().is_none_or(index_ok)
                && region.as_deref().is_none_or(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_digit()))
                && (person_index.is_some() || region.is_some())
        }
        ForwardOp::Progress { application_id, person_index, .. } => {
            id_ok(application_id) && person_index.as_deref().is_none_or(index_ok)
        }
        ForwardOp::EcardStatus { key_id, ecard_id } => *key_id > 0 && id_ok(ecard_id),
        ForwardOp::MedicalSettle { bill } => bill.check().is_ok(),
        ForwardOp::MedicalRefund { hospital, bill_id } => {
            medical::check_hospital(hospital).is_ok() && crate::medical::check_bill_id(bill_id).is_ok()
        }
    };
    // A terminal sends medical bills, and medical bills come only from a terminal.
    let ok = ok && (req.op.is_medical() == (req.caller.kind == CallerKind::Terminal));
    if ok { Ok(()) } else { Err(DomainError::invalid("bad_forward", "op", "the forwarded operation has a bad field")) }
}

/// The deployment that decides: the holder of the person in the national index (`entry`);
/// for an application of a person nobody holds, the deployment whose region prefix is the
/// longest match of the insured region; for progress the named deployment; for an e-card the
/// owner of its key (`key_owner`, looked up by the caller); for a medical bill the owner of the
/// QR's key or the deployment serving the card identification code's region.
pub fn route(
    op: &ForwardOp,
    entry: Option<&IndexEntry>,
    deployments: &[DeploymentInfo],
    key_owner: Option<&DeploymentCode>,
) -> Result<Route, DomainError> {
    let held = || {
        entry.and_then(|e| {
            let code = e.holder()?;
            Some(Route { to: code.clone(), person_id: e.holdings.get(code).map(|h| h.person_id.clone()) })
        })
    };
    match op {
        ForwardOp::PersonStatus { .. } | ForwardOp::CardAction { .. } => held().ok_or_else(not_held),
        ForwardOp::Apply { region, .. } => {
            if let Some(r) = held() {
                return Ok(r);
            }
            let region = region.as_deref().ok_or_else(not_held)?;
            serving(region, deployments).map(|to| Route { to, person_id: None }).ok_or_else(|| {
                DomainError::refused("no_deployment_for_region", format!("no deployment serves region {region}"))
            })
        }
        ForwardOp::Progress { deployment, .. } => deployments
            .iter()
            .find(|d| &d.code == deployment)
            .map(|d| Route {
                to: d.code.clone(),
                person_id: entry.and_then(|e| e.holdings.get(&d.code)).map(|h| h.person_id.clone()),
            })
            .ok_or_else(|| DomainError::refused("unknown_deployment", format!("no deployment {deployment}"))),
        ForwardOp::EcardStatus { key_id, .. } => key_owner
            .map(|to| Route { to: to.clone(), person_id: None })
            .ok_or_else(|| DomainError::refused("unknown_key", format!("no deployment owns key {key_id}"))),
        ForwardOp::MedicalSettle { bill } => {
            medical::decider(&bill.presented, key_owner, deployments).map(|to| Route { to, person_id: None })
        }
        // The deployment that settled the bill is in the hub's clearing entry, not in the request.
        ForwardOp::MedicalRefund { .. } => Err(DomainError::invalid(
            "bad_forward",
            "op",
            "a refund goes to the deployment the hub's clearing entry names",
        )),
    }
}

/// The deployment serving a region: the longest registered prefix of it.
pub fn serving(region: &str, deployments: &[DeploymentInfo]) -> Option<DeploymentCode> {
    deployments
        .iter()
        .flat_map(|d| d.regions.iter().filter(|p| region.starts_with(p.as_str())).map(move |p| (p.len(), &d.code)))
        .max_by_key(|(len, _)| *len)
        .map(|(_, code)| code.clone())
}

/// The actor name the deciding deployment records: `<from>/<username>`, so a remote action
/// is never mistaken for one of its own users (whose names have no '/').
pub fn remote_actor_name(from: &DeploymentCode, username: &str) -> String {
    format!("{from}/{username}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nation::hub::Holding;

    fn code(s: &str) -> DeploymentCode {
        DeploymentCode::parse(s).expect("code")
    }
    fn dep(c: &str, regions: &[&str]) -> DeploymentInfo {
        DeploymentInfo {
            code: code(c),
            name: c.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            url: "http://x".into(),
        }
    }
    fn staff() -> Caller {
        Caller { username: "clerk".into(), kind: CallerKind::Staff }
    }
    fn held_by(c: &str, person_id: &str) -> IndexEntry {
        let mut e = IndexEntry::new(&"a".repeat(64));
        e.holdings
            .insert(code(c), Holding { person_id: person_id.into(), cards: vec![], application_id: Some("x".into()) });
        e
    }

    #[test]
    fn a_forward_request_keeps_its_shape_on_the_wire() {
        let req: ForwardRequest = serde_json::from_str(&format!(
            r#"{{"caller":{{"username":"c1","kind":"staff"}},"op":"card_action","person_index":"{}","action":"report-lost"}}"#,
            "a".repeat(64)
        ))
        .expect("parse");
        assert!(matches!(req.op, ForwardOp::CardAction { action: RemoteCardAction::ReportLost, .. }));
        assert!(check(&req).is_ok());
        assert!(
            serde_json::from_str::<ForwardRequest>(
                r#"{"caller":{"username":"c","kind":"staff"},"op":"proxy","path":"/x"}"#
            )
            .is_err()
        );
        assert_eq!(RemoteCardAction::parse("report-lost"), Some(RemoteCardAction::ReportLost));
        assert_eq!(RemoteCardAction::parse("cancel"), None, "cancel is not a national service");
    }

    #[test]
    fn bad_fields_are_refused_before_routing() {
        let bad = [
            ForwardOp::PersonStatus { person_index: "zz".into() },
            ForwardOp::Apply { person_index: None, region: None, application: app() },
            ForwardOp::Apply { person_index: None, region: Some("35".into()), application: app() },
            ForwardOp::Progress { deployment: code("XM"), application_id: "".into(), person_index: None },
            ForwardOp::EcardStatus { key_id: 0, ecard_id: "e".into() },
        ];
        for op in bad {
            assert_eq!(
                check(&ForwardRequest { caller: staff(), op: op.clone() }).map_err(|e| e.code),
                Err("bad_forward"),
                "{op:?}"
            );
        }
        let op = ForwardOp::PersonStatus { person_index: "a".repeat(64) };
        let slash = Caller { username: "XM/clerk".into(), kind: CallerKind::Staff };
        assert_eq!(check(&ForwardRequest { caller: slash, op }).map_err(|e| e.code), Err("bad_username"));
    }

    fn app() -> MailedApplication {
        MailedApplication {
            ssn: "350203199001011234".into(),
            kind: "first".into(),
            bank_code: "ICBC".into(),
            mail_address: "x".into(),
            reason: None,
        }
    }

    #[test]
    fn a_person_goes_to_their_holder_with_its_own_person_id() {
        let op = ForwardOp::PersonStatus { person_index: "a".repeat(64) };
        let r = route(&op, Some(&held_by("FZ", "p-fz")), &[], None).expect("route");
        assert_eq!(r, Route { to: code("FZ"), person_id: Some("p-fz".into()) });
        assert_eq!(route(&op, None, &[], None).map_err(|e| e.code), Err("person_not_held"));
        assert_eq!(route(&op, Some(&IndexEntry::new("x")), &[], None).map_err(|e| e.code), Err("person_not_held"));
    }

    #[test]
    fn a_new_application_goes_to_the_longest_region_prefix() {
        let deps = [dep("FJ", &["35"]), dep("XM", &["3502"]), dep("BJ", &["11"])];
        let op = |r: &str| ForwardOp::Apply { person_index: None, region: Some(r.into()), application: app() };
        assert_eq!(route(&op("350203"), None, &deps, None).map(|r| r.to), Ok(code("XM")));
        assert_eq!(route(&op("350102"), None, &deps, None).map(|r| r.to), Ok(code("FJ")));
        assert_eq!(route(&op("440300"), None, &deps, None).map_err(|e| e.code), Err("no_deployment_for_region"));
        // A person someone holds goes to the holder whatever the region says.
        assert_eq!(route(&op("110101"), Some(&held_by("FJ", "p")), &deps, None).map(|r| r.to), Ok(code("FJ")));
    }

    #[test]
    fn progress_and_ecards_go_to_the_named_deployment_or_the_key_owner() {
        let deps = [dep("XM", &["3502"])];
        let p = ForwardOp::Progress { deployment: code("XM"), application_id: "a1".into(), person_index: None };
        assert_eq!(route(&p, None, &deps, None).map(|r| r.to), Ok(code("XM")));
        let p = ForwardOp::Progress { deployment: code("BJ"), application_id: "a1".into(), person_index: None };
        assert_eq!(route(&p, None, &deps, None).map_err(|e| e.code), Err("unknown_deployment"));
        let e = ForwardOp::EcardStatus { key_id: 7, ecard_id: "e1".into() };
        assert_eq!(route(&e, None, &deps, Some(&code("XM"))).map(|r| r.to), Ok(code("XM")));
        assert_eq!(route(&e, None, &deps, None).map_err(|e| e.code), Err("unknown_key"));
    }

    fn bill(presented: medical::Presented) -> RemoteBill {
        RemoteBill {
            bill_id: "INV-1".into(),
            amount_fen: 10_000,
            hospital: "BJ-HOSP".into(),
            institution_region: crate::ids::RegionCode::parse("110105").expect("region"),
            presented,
        }
    }

    #[test]
    fn a_medical_bill_comes_from_a_terminal_and_goes_to_the_cards_deployment() {
        let deps = [dep("XM", &["3502"]), dep("BJ", &["11"])];
        let region = crate::ids::RegionCode::parse("350203").expect("region");
        let by_code = medical::Presented::CardIdCode { code: crate::ids::CardIdCode::issue(region, 7) };
        let terminal = Caller { username: "terminal:t1".into(), kind: CallerKind::Terminal };
        let settle = ForwardRequest { caller: terminal.clone(), op: ForwardOp::MedicalSettle { bill: bill(by_code) } };
        assert!(check(&settle).is_ok());
        assert_eq!(route(&settle.op, None, &deps, None).map(|r| r.to), Ok(code("XM")));
        let qr = ForwardOp::MedicalSettle { bill: bill(medical::Presented::Qr { token: "t".into(), key_id: 3 }) };
        assert_eq!(route(&qr, None, &deps, Some(&code("BJ"))).map(|r| r.to), Ok(code("BJ")));
        // Staff do not send bills, and a terminal sends nothing else.
        let by_staff = ForwardRequest { caller: staff(), op: settle.op.clone() };
        assert_eq!(check(&by_staff).map_err(|e| e.code), Err("bad_forward"));
        let status =
            ForwardRequest { caller: terminal.clone(), op: ForwardOp::PersonStatus { person_index: "a".repeat(64) } };
        assert_eq!(check(&status).map_err(|e| e.code), Err("bad_forward"));
        let refund = ForwardOp::MedicalRefund { hospital: "BJ/HOSP".into(), bill_id: "INV-1".into() };
        assert_eq!(check(&ForwardRequest { caller: terminal, op: refund }).map_err(|e| e.code), Err("bad_forward"));
        let text = serde_json::to_string(&settle).expect("json");
        assert!(text.contains(r#""op":"medical_settle""#) && text.contains(r#""kind":"terminal""#), "{text}");
        assert_eq!(serde_json::from_str::<ForwardRequest>(&text).expect("parse"), settle);
    }

    #[test]
    fn a_remote_actor_names_its_deployment() {
        assert_eq!(remote_actor_name(&code("FZ"), "clerk"), "FZ/clerk");
    }
}
