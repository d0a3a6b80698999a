//! Cross-province services (跨省通办, docs/NATION.md) in the pages: the desk serving a walk-in
//! whose card another deployment holds, the holder's own card wherever it is held in the
//! nation, and the console's stop of a card held elsewhere.
//!
//! The pages call the national services' own handlers in process (`routes::national`), which
//! go through the hub to the deployment that decides; that deployment's rules and refusals
//! are the answer, here put into the page's language. A deployment on its own has no
//! national services (the handlers answer 404 `not_in_a_nation`): the pages say so plainly.

use super::i18n::Tr;
use super::portal::local_time;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::routes::national as api;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use sscard_domain::access::Actor;
use sscard_domain::application::{AppKind, AppStatus, Channel};
use sscard_domain::card::{CardAction, CardStatus, next_status};
use sscard_domain::document::Ssn;
use sscard_domain::nation::forward::MAX_FORWARD_BYTES;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// The problem code of a deployment that is in no nation.
pub const NOT_IN_A_NATION: &str = "not_in_a_nation";

/// Whether this deployment is in a nation, so that the national services can answer.
pub fn in_nation(state: &AppState) -> bool {
    state.national.read().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// What the national services refused, or why they could not be reached, by problem code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
}

impl Refusal {
    /// From a problem's type (`urn:sscard:problem:<code>`) and status.
    fn of(kind: &str, status: u16) -> Refusal {
        let code = kind.rsplit(':').next().filter(|c| !c.is_empty()).unwrap_or("internal");
        Refusal { status, code: code.to_string() }
    }
    /// Nobody in the nation holds the person (or the application): a 404 from the hub or the
    /// decider, not this deployment's own "no nation".
    pub fn nobody(&self) -> bool {
        self.status == 404 && self.code != NOT_IN_A_NATION
    }
    /// In the page's language: the national pages' own words for the code (`nat_err_<code>`)
    /// first, else the catalog's `err_<code>`, else a general message.
    pub fn text(&self, t: &Tr) -> String {
        let own = t.get(&format!("nat_err_{}", self.code));
        own.or_else(|| t.get(&format!("err_{}", self.code))).unwrap_or_else(|| t.s("err_other")).to_string()
    }
}

/// One of the national handlers' answers, read in process: its JSON object, or its problem.
async fn read(answer: ApiResult<Response>) -> Result<Value, Refusal> {
    let resp = answer.map_err(|e| Refusal::of(&e.problem.kind, e.status.as_u16()))?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), MAX_FORWARD_BYTES)
        .await
        .map_err(|_| Refusal { status: 502, code: "answer_too_large".into() })?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() && body.is_object() {
        return Ok(body);
    }
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("urn:sscard:problem:internal");
    Err(Refusal::of(kind, status.as_u16()))
}

/// `GET /national/persons/{ssn}` as `actor`: where the person's card is, masked.
pub async fn status(state: &AppState, actor: Actor, ssn: &Ssn) -> Result<Value, Refusal> {
    read(api::person(State(state.clone()), Auth(actor), Path(ssn.to_string())).await).await
}

/// `POST /national/persons/{ssn}/cards/{action}` as `actor` with `body` (`{pin}`, `{reason}`).
pub async fn act(state: &AppState, actor: Actor, ssn: &Ssn, action: CardAction, body: Value) -> Result<Value, Refusal> {
    let path = Path((ssn.to_string(), action.as_str().to_string()));
    let body = Bytes::from(body.to_string());
    read(api::card_action(State(state.clone()), Auth(actor), path, body).await).await
}

/// `POST /national/applications` as `actor`: a mailed application at the deciding deployment.
pub async fn apply(state: &AppState, actor: Actor, body: Value) -> Result<Value, Refusal> {
    read(api::apply(State(state.clone()), Auth(actor), Bytes::from(body.to_string())).await).await
}

/// `GET /national/applications/{deployment}/{id}` as `actor`: the production timeline.
pub async fn progress(state: &AppState, actor: Actor, deployment: &str, id: &str) -> Result<Value, Refusal> {
    let path = Path((deployment.to_string(), id.to_string()));
    read(api::progress(State(state.clone()), Auth(actor), path).await).await
}

/// The catalog key of a code another deployment sent (`<prefix><code>`) when it is one of
/// `known`, else the key of an unknown value: a newer deployment's code shows no raw word.
fn key_of(prefix: &str, raw: &str, known: bool) -> String {
    if known { format!("{prefix}{raw}") } else { "nat_unknown".to_string() }
}

fn text(v: &Value, field: &str) -> String {
    v.get(field).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A card as the deciding deployment shows it (its number masked), with the actions its
/// state allows by the card state machine.
pub struct NatCard {
    pub card_no: String,
    pub status: String,
    pub status_key: String,
    pub bank_code: String,
    pub expires_on: String,
    pub temporary: bool,
    pub can_activate: bool,
    pub can_suspend: bool,
    pub can_unsuspend: bool,
    pub can_report_lost: bool,
    pub can_stop: bool,
}

impl NatCard {
    fn new(v: &Value) -> NatCard {
        let raw = text(v, "status");
        let status = CardStatus::parse(&raw);
        let can = |a| status.is_some_and(|s| next_status(s, a).is_some());
        NatCard {
            card_no: text(v, "card_no"),
            status_key: key_of("st_", &raw, status.is_some()),
            status: raw,
            bank_code: text(v, "bank_code"),
            expires_on: text(v, "expires_on"),
            temporary: v.get("temporary").and_then(Value::as_bool).unwrap_or(false),
            can_activate: status == Some(CardStatus::Issued),
            can_suspend: can(CardAction::Suspend),
            can_unsuspend: can(CardAction::Unsuspend),
            can_report_lost: can(CardAction::ReportLost),
            can_stop: can(CardAction::Stop),
        }
    }
}

/// An application in flight at the deciding deployment.
pub struct NatApp {
    pub id: String,
    pub kind_key: String,
    pub channel_key: String,
    pub status_key: String,
    pub status: String,
}

impl NatApp {
    fn new(v: &Value) -> NatApp {
        let (kind, channel, status) = (text(v, "kind"), text(v, "channel"), text(v, "status"));
        NatApp {
            id: text(v, "id"),
            kind_key: key_of("k_", &kind, AppKind::parse(&kind).is_some()),
            channel_key: key_of("c_", &channel, Channel::parse(&channel).is_some()),
            status_key: key_of("st_", &status, AppStatus::parse(&status).is_some()),
            status,
        }
    }
}

/// Where a person's card is in the nation, as the deciding deployment answered.
pub struct NatView {
    /// The code of the deployment holding the person.
    pub deployment: String,
    /// The person's SSN, masked by the decider.
    pub ssn: String,
    pub region: String,
    pub cards: Vec<NatCard>,
    pub apps: Vec<NatApp>,
}

impl NatView {
    pub fn new(v: &Value) -> NatView {
        let list = |field: &str| v.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        let person = v.get("person").cloned().unwrap_or(Value::Null);
        NatView {
            deployment: text(v, "deployment"),
            ssn: text(&person, "ssn"),
            region: text(&person, "region"),
            cards: list("cards").iter().map(NatCard::new).collect(),
            apps: list("applications").iter().map(NatApp::new).collect(),
        }
    }
    /// A mailed application replaces a card: a replacement when the person has one, else a first.
    pub fn default_kind(&self) -> &'static str {
        if self.cards.is_empty() { "first" } else { "replacement" }
    }
}

/// One step of an application's timeline at the deciding deployment.
pub struct NatStep {
    pub status_key: String,
    pub at: String,
    /// Who took the step (staff see it; holders see none, issue 14: no staff logins).
    pub actor: String,
}

/// An application with its production timeline, from the deployment that makes the card.
pub struct NatProgress {
    pub deployment: String,
    pub id: String,
    pub kind_key: String,
    pub channel_key: String,
    pub status_key: String,
    pub status: String,
    pub fee_yuan: String,
    pub timeline: Vec<NatStep>,
}

impl NatProgress {
    pub fn new(v: &Value, show_actors: bool) -> NatProgress {
        let app = NatApp::new(v);
        let steps = v.get("timeline").and_then(Value::as_array).cloned().unwrap_or_default();
        let timeline = steps
            .iter()
            .map(|s| {
                let raw = text(s, "status");
                NatStep {
                    status_key: key_of("st_", &raw, AppStatus::parse(&raw).is_some()),
                    at: local_time(s.get("at_ms").and_then(Value::as_i64).unwrap_or_default()),
                    actor: if show_actors { text(s, "actor") } else { String::new() },
                }
            })
            .collect();
        let fee = v.get("fee_fen").and_then(Value::as_i64).unwrap_or_default();
        NatProgress {
            deployment: text(v, "deployment"),
            id: app.id,
            kind_key: app.kind_key,
            channel_key: app.channel_key,
            status_key: app.status_key,
            status: app.status,
            fee_yuan: sscard_domain::money::Fen::new(fee).to_string(),
            timeline,
        }
    }
}

/// "The card … held by … is now …" in the page's language, from a card action's answer.
pub fn card_done(t: &Tr, answer: &Value) -> String {
    let raw = text(answer, "status");
    let status = t.s(&key_of("st_", &raw, CardStatus::parse(&raw).is_some())).to_string();
    t.f(
        "nat_ok_card",
        &[("deployment", text(answer, "deployment")), ("card", text(answer, "card_no")), ("status", status)],
    )
}

/// Walk-ins kept at most this long, and at most this many at once (the oldest go first).
const WALK_IN_TTL: Duration = Duration::from_secs(30 * 60);
const MAX_WALK_INS: usize = 10_000;

/// The walk-in a desk serves: the SSN the teller typed, kept server-side for that browser (its
/// CSRF token) and that teller, so that no address, link or hidden field carries it in full.
struct WalkIn {
    at: Instant,
    owner: String,
    ssn: Ssn,
}

static WALK_INS: LazyLock<Mutex<HashMap<String, WalkIn>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Keeps `ssn` as the walk-in `owner` serves in `browser`.
pub fn keep_walk_in(browser: &str, owner: &str, ssn: Ssn) {
    let mut kept = WALK_INS.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    kept.retain(|_, w| now.duration_since(w.at) < WALK_IN_TTL);
    if kept.len() >= MAX_WALK_INS
        && let Some(oldest) = kept.iter().min_by_key(|(_, w)| w.at).map(|(k, _)| k.clone())
    {
        kept.remove(&oldest);
    }
    kept.insert(browser.to_string(), WalkIn { at: now, owner: owner.to_string(), ssn });
}

/// The walk-in `owner` serves in `browser`, if one is kept (and still fresh).
pub fn walk_in(browser: &str, owner: &str) -> Option<Ssn> {
    let kept = WALK_INS.lock().unwrap_or_else(|p| p.into_inner());
    kept.get(browser).filter(|w| w.owner == owner && w.at.elapsed() < WALK_IN_TTL).map(|w| w.ssn.clone())
}

/// Forgets the walk-in of `browser` (the next customer).
pub fn forget_walk_in(browser: &str) {
    WALK_INS.lock().unwrap_or_else(|p| p.into_inner()).remove(browser);
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;
    use super::*;

    #[test]
    fn a_walk_in_is_kept_for_its_browser_and_teller_only() {
        let ssn = Ssn::parse("110101199003070038").expect("ssn");
        keep_walk_in("browser-1", "teller.a", ssn.clone());
        assert_eq!(walk_in("browser-1", "teller.a"), Some(ssn));
        assert_eq!(walk_in("browser-1", "teller.b"), None, "another teller in the same browser");
        assert_eq!(walk_in("browser-2", "teller.a"), None);
        forget_walk_in("browser-1");
        assert_eq!(walk_in("browser-1", "teller.a"), None);
    }

    #[test]
    fn refusals_are_told_in_the_page_language() {
        let zh = Tr { lang: Lang::Zh };
        let r = Refusal::of("urn:sscard:problem:illegal_transition", 409);
        assert_eq!(r.code, "illegal_transition");
        assert_eq!(r.text(&zh), zh.s("err_illegal_transition"));
        assert!(!Refusal::of("urn:sscard:problem:not_in_a_nation", 404).nobody());
        assert!(Refusal::of("urn:sscard:problem:not_found", 404).nobody());
        assert_eq!(Refusal::of("urn:sscard:problem:no_such_code_yet", 422).text(&zh), zh.s("err_other"));
        assert_eq!(Refusal::of("urn:sscard:problem:hub_unavailable", 503).text(&zh), zh.s("nat_err_hub_unavailable"));
    }

    #[test]
    fn the_decider_answer_becomes_a_view_with_the_actions_its_state_allows() {
        let answer = serde_json::json!({
            "deployment": "FZ", "person": { "ssn": "3501**********0038", "region": "350102" },
            "cards": [{ "card_no": "*****0123", "status": "active", "bank_code": "ICBC", "expires_on": "2035-01-01" },
                      { "card_no": "*****0077", "status": "someday_new" }],
            "applications": [{ "id": "a1", "kind": "replacement", "channel": "cross_province", "status": "submitted" }],
        });
        let v = NatView::new(&answer);
        assert_eq!((v.deployment.as_str(), v.region.as_str()), ("FZ", "350102"));
        let c = &v.cards[0];
        assert!(c.can_suspend && c.can_report_lost && c.can_stop && !c.can_unsuspend && !c.can_activate);
        assert_eq!(v.cards[1].status_key, "nat_unknown");
        assert!(!v.cards[1].can_suspend);
        assert_eq!(v.apps[0].channel_key, "c_cross_province");
        assert_eq!(v.default_kind(), "replacement");
    }
}
