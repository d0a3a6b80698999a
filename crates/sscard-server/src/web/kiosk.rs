//! The customer's PIN at the desk (issue 14, defect 11): the teller never types it and it is
//! never typed in the teller's session. The teller starts a PIN request for an issued card and
//! gets a one-time code; the customer-facing screen (a second window turned to the customer,
//! or a kiosk at the counter) opens `/kiosk/pin` with that code, which is its only credential:
//! the screen shows no login and no personal data, only the card number masked, and the
//! holder types the PIN twice there. The card is activated as the teller who started the
//! request; the PIN is hashed by the use case and never shown, logged or kept in clear.
//!
//! Requests live in the server's memory (like the one-time messages of [`super::flash`]):
//! ten minutes, five tries, one use; a restarted server forgets them and the teller starts a
//! new one.

use super::pages::{Layout, render};
use super::{Viewer, back, urlencode};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sscard_app::cards::{self, ActionInput};
use sscard_app::fields;
use sscard_domain::access::{Actor, Role};
use sscard_domain::card::{CardAction, CardStatus, Pin};
use sscard_domain::ids::CardNo;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

const STAFF: &[Role] = &[Role::Teller, Role::Clerk, Role::Admin];
/// How long a code may be used, how many PINs may be tried with it, how many are kept at once.
const TTL: Duration = Duration::from_secs(600);
const MAX_TRIES: u8 = 5;
const MAX_KEPT: usize = 1_000;
/// Letters and digits that cannot be mistaken for each other when read aloud or typed
/// (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 8;

struct Request {
    card_no: CardNo,
    /// The teller who started it: the activation is theirs, as at the counter.
    actor: Actor,
    at: Instant,
    tries: u8,
}

static REQUESTS: LazyLock<Mutex<HashMap<String, Request>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// A fresh code: 8 characters of [`ALPHABET`] (31^8, about 8.5 × 10^11), drawn without bias.
fn new_code() -> String {
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        for b in sscard_gm::rand::random_bytes::<16>() {
            if b < limit && code.len() < CODE_LEN {
                code.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    code
}

/// Upper case without spaces or dashes: the code as the customer may type it.
fn normalize(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).take(16).collect()
}

/// Starts a request for `card_no` by `actor` (replacing an earlier one for the same card).
fn start(card_no: CardNo, actor: Actor) -> String {
    let mut kept = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    kept.retain(|_, r| now.duration_since(r.at) < TTL && r.card_no != card_no);
    if kept.len() >= MAX_KEPT
        && let Some(oldest) = kept.iter().min_by_key(|(_, r)| r.at).map(|(k, _)| k.clone())
    {
        kept.remove(&oldest);
    }
    let code = new_code();
    kept.insert(code.clone(), Request { card_no, actor, at: now, tries: 0 });
    code
}

/// The code `owner` started for `card_no`, still open, with the minutes it has left.
fn open_for(card_no: &str, owner: &str) -> Option<(String, u64)> {
    let kept = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .find(|(_, r)| r.card_no.as_str() == card_no && r.actor.name == owner && r.at.elapsed() < TTL)
        .map(|(code, r)| (code.clone(), TTL.saturating_sub(r.at.elapsed()).as_secs().div_ceil(60)))
}

/// The card and teller of an open code.
fn find(code: &str) -> Option<(CardNo, Actor)> {
    let kept = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
    kept.get(code).filter(|r| r.at.elapsed() < TTL && r.tries < MAX_TRIES).map(|r| (r.card_no.clone(), r.actor.clone()))
}

/// Counts a try of `code`; the code is spent after its last try or its use (`done`).
fn tried(code: &str, done: bool) {
    let mut kept = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
    let spent = match kept.get_mut(code) {
        Some(r) => {
            r.tries = r.tries.saturating_add(1);
            done || r.tries >= MAX_TRIES
        }
        None => false,
    };
    if spent {
        kept.remove(code);
    }
}

/// All but the last four characters hidden: the customer recognises their card.
fn masked(card_no: &str) -> String {
    let n = card_no.chars().count();
    card_no.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}

#[derive(Template)]
#[template(path = "desk_pin.html")]
struct DeskPinPage {
    l: Layout,
    card_no: String,
    q: String,
    /// The open code, and how long it may still be used (in words).
    open: Option<(String, String)>,
    /// Where the customer screen opens it.
    kiosk_url: String,
}

#[derive(Deserialize)]
pub struct DeskQuery {
    q: Option<String>,
}

/// The teller's side: the code to open on the customer's screen, and whether the PIN is set.
pub async fn desk_page(v: Viewer, Path(card_no): Path<String>, Query(query): Query<DeskQuery>) -> Response {
    let actor = match v.require(STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let card_no = match fields::card_no(&card_no, "card_no") {
        Ok(c) => c.to_string(),
        Err(_) => return back("/desk", Err(v.t.s("err_not_found").to_string())),
    };
    let open = open_for(&card_no, &actor.name)
        .map(|(code, minutes)| (code, v.t.f("desk_pin_valid", &[("minutes", minutes.to_string())])));
    let kiosk_url = open.as_ref().map(|(code, _)| format!("/kiosk/pin?code={code}")).unwrap_or_default();
    render(&v, &DeskPinPage { l: Layout::new(&v), card_no, q: query.q.unwrap_or_default(), open, kiosk_url })
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    q: Option<String>,
}

/// The teller starts a PIN request for an issued card.
pub async fn desk_start(
    State(state): State<AppState>,
    v: Viewer,
    Path(card_no): Path<String>,
    Form(f): Form<StartForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let q = f.q.unwrap_or_default();
    let ctx = state.ctx(actor.clone(), None);
    let card = async {
        let card_no = fields::card_no(&card_no, "card_no")?;
        cards::get(state.store.as_ref(), &ctx, &card_no).await
    }
    .await;
    match card {
        Ok(c) if c.status == CardStatus::Issued => {
            start(c.card_no.clone(), actor);
            Redirect::to(&format!("/desk/pin/{}?q={}", urlencode(c.card_no.as_str()), urlencode(&q))).into_response()
        }
        Ok(_) => back(&format!("/desk?q={}", urlencode(&q)), Err(v.t.s("err_illegal_transition").to_string())),
        Err(e) => back(&format!("/desk?q={}", urlencode(&q)), Err(super::err_text(&v.t, &e))),
    }
}

/// The teller's page asks every few seconds whether the customer has set the PIN.
pub async fn desk_state(State(state): State<AppState>, v: Viewer, Path(card_no): Path<String>) -> Response {
    let actor = match v.require(STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = state.ctx(actor, None);
    let active = match fields::card_no(&card_no, "card_no") {
        Ok(no) => cards::get(state.store.as_ref(), &ctx, &no).await.is_ok_and(|c| c.status == CardStatus::Active),
        Err(_) => false,
    };
    let t = v.t;
    let html = if active {
        format!(
            r#"<p id="pin-state" class="flash ok" role="status" data-pin-state="done">✔ {}</p>"#,
            t.s("desk_pin_done")
        )
    } else {
        format!(
            r#"<p id="pin-state" role="status" data-pin-state="waiting" hx-get="/desk/pin/{}/state" hx-trigger="every 2s" hx-swap="outerHTML">{}</p>"#,
            urlencode(&card_no),
            t.s("desk_pin_waiting")
        )
    };
    Html(html).into_response()
}

#[derive(Template)]
#[template(path = "kiosk_pin.html")]
struct KioskPage {
    l: Layout,
    /// The code being used (empty: ask for it).
    code: String,
    card_masked: String,
    done: bool,
}

/// The customer screen's layout: no one's login shown, no way into anyone's session.
fn kiosk_layout(v: &Viewer) -> Layout {
    Layout { user: None, ..Layout::new(v) }
}

#[derive(Deserialize)]
pub struct KioskQuery {
    code: Option<String>,
}

/// The customer screen: asks for the code, then for the PIN twice.
pub async fn kiosk_page(v: Viewer, Query(q): Query<KioskQuery>) -> Response {
    let code = normalize(q.code.as_deref().unwrap_or(""));
    if code.is_empty() {
        let page = KioskPage { l: kiosk_layout(&v), code, card_masked: String::new(), done: false };
        return render(&v, &page);
    }
    match find(&code) {
        Some((card_no, _)) => {
            render(&v, &KioskPage { l: kiosk_layout(&v), code, card_masked: masked(card_no.as_str()), done: false })
        }
        None => back("/kiosk/pin", Err(v.t.s("kiosk_bad_code").to_string())),
    }
}

#[derive(Deserialize)]
pub struct KioskForm {
    csrf: String,
    code: String,
    pin: String,
    pin_confirmation: String,
}

/// The holder's PIN, typed twice on the customer screen: the card is activated with it.
pub async fn kiosk_submit(State(state): State<AppState>, v: Viewer, Form(f): Form<KioskForm>) -> Response {
    if let Err(r) = v.check_csrf(&f.csrf) {
        return r;
    }
    let code = normalize(&f.code);
    let Some((card_no, actor)) = find(&code) else { return back("/kiosk/pin", Err(v.t.s("kiosk_bad_code").into())) };
    let ctx = state.ctx(actor, None);
    let result = async {
        let input = ActionInput { pin: Some(Pin::parse_confirmed(&f.pin, &f.pin_confirmation)?), ..Default::default() };
        cards::act(state.store.as_ref(), &ctx, &card_no, CardAction::Activate, input).await
    }
    .await;
    tried(&code, result.is_ok());
    match result {
        Ok(_) => {
            let page = KioskPage {
                l: kiosk_layout(&v),
                code: String::new(),
                card_masked: masked(card_no.as_str()),
                done: true,
            };
            render(&v, &page)
        }
        Err(e) => back(&format!("/kiosk/pin?code={}", urlencode(&code)), Err(super::err_text(&v.t, &e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teller() -> Actor {
        Actor { name: "teller.x".into(), role: Role::Teller, person_id: None, bank_code: None }
    }

    #[test]
    fn codes_are_readable_and_differ() {
        let a = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
        assert_ne!(a, new_code());
        assert_eq!(normalize(" k7q2-m9xh "), "K7Q2M9XH");
    }

    #[test]
    fn a_code_opens_its_card_until_used_or_tried_too_often() {
        let card = CardNo::parse("A00000901").expect("card");
        let code = start(card.clone(), teller());
        assert_eq!(find(&code).map(|(c, a)| (c, a.name)), Some((card.clone(), "teller.x".into())));
        assert_eq!(open_for("A00000901", "teller.x").map(|(c, _)| c), Some(code.clone()));
        assert_eq!(open_for("A00000901", "teller.y"), None, "another teller does not see it");
        for _ in 0..MAX_TRIES - 1 {
            tried(&code, false);
        }
        assert!(find(&code).is_some());
        tried(&code, false);
        assert!(find(&code).is_none(), "spent after its last try");
        let again = start(card.clone(), teller());
        tried(&again, true);
        assert!(find(&again).is_none(), "spent once used");
        let first = start(card.clone(), teller());
        let second = start(card, teller());
        assert!(find(&first).is_none() && find(&second).is_some(), "a new code replaces the card's old one");
    }
}
