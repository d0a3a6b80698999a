//! The cross-province pages (跨省通办): at the desk, staff look up a walk-in by social security
//! number anywhere in the nation and act on the card the deciding deployment holds (temporary
//! loss, its lift, formal loss, stop), take a mailed application and follow its production; in
//! the portal, a holder does the same for their own card (and activates it with a PIN typed
//! twice); in the console, a clerk stops a card held elsewhere. The calls and their refusals
//! are [`super::national`]'s; in a deployment on its own every page says plainly that there
//! are no national services here.

use super::national::{self as nat, NatProgress, NatView};
use super::pages::{Layout, render};
use super::portal::{BranchOption, branch_options};
use super::{Viewer, back, urlencode};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sscard_domain::access::{Actor, Role};
use sscard_domain::card::{CardAction, Pin};
use sscard_domain::document::Ssn;

const STAFF: &[Role] = &[Role::Teller, Role::Clerk, Role::Admin];
const DESK: &str = "/desk/national";
const PORTAL: &str = "/portal/national";

#[derive(Template)]
#[template(path = "national.html")]
struct NationalPage {
    l: Layout,
    /// Where the forms post: [`DESK`] or [`PORTAL`].
    base: &'static str,
    desk: bool,
    in_nation: bool,
    /// A person is being served: the desk's walk-in, or the holder themselves.
    serving: bool,
    ssn_masked: String,
    found: Option<NatView>,
    /// Nobody in the nation holds the person: only a mailed application fits.
    nobody_holds: bool,
    refusal: Option<String>,
    banks: Vec<BranchOption>,
    /// What the application form starts on: the kind that fits, the insured region.
    kind: &'static str,
    region: String,
}

impl NationalPage {
    fn new(v: &Viewer, state: &AppState, desk: bool) -> NationalPage {
        NationalPage {
            l: Layout::new(v),
            base: if desk { DESK } else { PORTAL },
            desk,
            in_nation: nat::in_nation(state),
            serving: false,
            ssn_masked: String::new(),
            found: None,
            nobody_holds: false,
            refusal: None,
            banks: Vec::new(),
            kind: "first",
            region: String::new(),
        }
    }
    /// Asks the nation where `ssn`'s card is, as `actor`, and fills the page with the answer.
    async fn serve(mut self, state: &AppState, v: &Viewer, actor: Actor, ssn: &Ssn, region: String) -> Self {
        self.serving = true;
        self.ssn_masked = ssn.masked();
        self.region = region;
        self.banks = branch_options(state, None).await.map(|(banks, _)| banks).unwrap_or_default();
        match nat::status(state, actor, ssn).await {
            Ok(answer) => {
                let view = NatView::new(&answer);
                self.kind = view.default_kind();
                if !view.region.is_empty() {
                    self.region = view.region.clone();
                }
                self.found = Some(view);
            }
            Err(r) if r.nobody() => self.nobody_holds = true,
            Err(r) => self.refusal = Some(r.text(&v.t)),
        }
        self
    }
}

/// The desk's cross-province page: the lookup, and the walk-in being served.
pub async fn desk_page(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page = NationalPage::new(&v, &state, true);
    let page = match nat::walk_in(&v.csrf, &actor.name).filter(|_| page.in_nation) {
        Some(ssn) => page.serve(&state, &v, actor, &ssn, String::new()).await,
        None => page,
    };
    render(&v, &page)
}

#[derive(Deserialize)]
pub struct LookupForm {
    csrf: String,
    ssn: String,
}

/// The teller typed a walk-in's social security number: kept server-side for this browser
/// (see [`nat::keep_walk_in`]), so the page and its address show it masked only.
pub async fn desk_lookup(v: Viewer, Form(f): Form<LookupForm>) -> Response {
    let actor = match v.post_as(&f.csrf, STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match Ssn::parse(&f.ssn) {
        Ok(ssn) => {
            nat::keep_walk_in(&v.csrf, &actor.name, ssn);
            Redirect::to(DESK).into_response()
        }
        Err(e) => back(DESK, Err(super::doc_err_text(&v.t, &e))),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// The walk-in is served: the next customer starts from an empty page.
pub async fn desk_done(v: Viewer, Form(f): Form<CsrfForm>) -> Response {
    if let Err(r) = v.post_as(&f.csrf, STAFF) {
        return r;
    }
    nat::forget_walk_in(&v.csrf);
    Redirect::to(DESK).into_response()
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    /// Why (stop).
    reason: Option<String>,
    /// The PIN typed twice (a holder's activation).
    pin: Option<String>,
    pin_confirmation: Option<String>,
}

/// A card action for the walk-in, at the deployment holding their card.
pub async fn desk_act(
    State(state): State<AppState>,
    v: Viewer,
    Path(action): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(ssn) = nat::walk_in(&v.csrf, &actor.name) else {
        return back(DESK, Err(v.t.s("nat_err_no_walk_in").into()));
    };
    let body = match CardAction::parse(&action) {
        Some(a @ (CardAction::Suspend | CardAction::Unsuspend | CardAction::ReportLost)) => (a, json!({})),
        Some(CardAction::Stop) => (CardAction::Stop, json!({ "reason": f.reason.unwrap_or_default() })),
        _ => return back(DESK, Err(v.t.s("err_no_such_action").into())),
    };
    back(DESK, act(&state, &v, actor, &ssn, body).await)
}

async fn act(
    state: &AppState,
    v: &Viewer,
    actor: Actor,
    ssn: &Ssn,
    (action, body): (CardAction, Value),
) -> Result<String, String> {
    nat::act(state, actor, ssn, action, body).await.map(|a| nat::card_done(&v.t, &a)).map_err(|r| r.text(&v.t))
}

#[derive(Deserialize)]
pub struct ApplyForm {
    csrf: String,
    /// first | replacement
    kind: String,
    region: String,
    bank_code: String,
    mail_address: String,
    /// lost | damaged | change_of_bank (replacement)
    reason: Option<String>,
}

/// The body of `POST /national/applications` for `ssn` from the form.
fn application(ssn: &Ssn, f: &ApplyForm) -> Value {
    let reason = (f.kind == "replacement").then(|| f.reason.clone().filter(|r| !r.is_empty()).unwrap_or("lost".into()));
    json!({ "ssn": ssn.as_str(), "region": f.region.trim(), "kind": f.kind, "bank_code": f.bank_code,
            "mail_address": f.mail_address.trim(), "reason": reason })
}

/// Sends a mailed application. Staff go on to its progress at the deployment that took it; a
/// holder back to their national page, where it is listed once that deployment approved it
/// (the hub learns whose it is only then, so it can show a holder their own).
async fn apply_as(state: &AppState, v: &Viewer, actor: Actor, ssn: &Ssn, f: &ApplyForm, base: &str) -> Response {
    match nat::apply(state, actor, application(ssn, f)).await {
        Ok(answer) => {
            let p = NatProgress::new(&answer, false);
            let to = if base == DESK {
                format!("{base}/applications/{}/{}", urlencode(&p.deployment), urlencode(&p.id))
            } else {
                base.to_string()
            };
            let status = v.t.s(&p.status_key).to_string();
            back(&to, Ok(v.t.f("nat_ok_applied", &[("deployment", p.deployment.clone()), ("status", status)])))
        }
        Err(r) => back(base, Err(r.text(&v.t))),
    }
}

/// A mailed application for the walk-in.
pub async fn desk_apply(State(state): State<AppState>, v: Viewer, Form(f): Form<ApplyForm>) -> Response {
    let actor = match v.post_as(&f.csrf, STAFF) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(ssn) = nat::walk_in(&v.csrf, &actor.name) else {
        return back(DESK, Err(v.t.s("nat_err_no_walk_in").into()));
    };
    apply_as(&state, &v, actor, &ssn, &f, DESK).await
}

#[derive(Template)]
#[template(path = "national_progress.html")]
struct ProgressPage {
    l: Layout,
    base: &'static str,
    in_nation: bool,
    found: Option<NatProgress>,
    refusal: Option<String>,
}

async fn progress_page(state: &AppState, v: &Viewer, actor: Actor, (deployment, id): (String, String)) -> Response {
    let desk = actor.role != Role::Holder;
    let (found, refusal) = match nat::progress(state, actor, &deployment, &id).await {
        // Staff see who took each step; a holder sees when (issue 14: no staff logins).
        Ok(answer) => (Some(NatProgress::new(&answer, desk)), None),
        Err(r) => (None, Some(r.text(&v.t))),
    };
    let base = if desk { DESK } else { PORTAL };
    render(v, &ProgressPage { l: Layout::new(v), base, in_nation: nat::in_nation(state), found, refusal })
}

/// The production progress of an application at another deployment, for staff.
pub async fn desk_progress(State(state): State<AppState>, v: Viewer, Path(at): Path<(String, String)>) -> Response {
    match v.require(STAFF) {
        Ok(actor) => progress_page(&state, &v, actor, at).await,
        Err(r) => r,
    }
}

/// The holder's own person: their SSN and insured region (from this deployment's register).
async fn own(state: &AppState, actor: &Actor) -> Option<(Ssn, String)> {
    let id = actor.person_id.as_deref()?;
    let ctx = state.ctx(actor.clone(), None);
    let p = sscard_app::persons::get(state.store.as_ref(), &ctx, id).await.ok()?.person;
    Some((p.ssn, p.region.to_string()))
}

/// The holder's card wherever it is held in the nation.
pub async fn portal_page(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(&[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page = NationalPage::new(&v, &state, false);
    if !page.in_nation {
        return render(&v, &page);
    }
    let Some((ssn, region)) = own(&state, &actor).await else {
        return back("/portal", Err(v.t.s("err_no_person").into()));
    };
    render(&v, &page.serve(&state, &v, actor, &ssn, region).await)
}

/// The holder's card action at the deployment holding the card; activation with the PIN typed
/// twice, checked here first (the decider checks it again) and sent only as the PIN.
pub async fn portal_act(
    State(state): State<AppState>,
    v: Viewer,
    Path(action): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((ssn, _)) = own(&state, &actor).await else { return back(PORTAL, Err(v.t.s("err_no_person").into())) };
    let body = match CardAction::parse(&action) {
        Some(a @ (CardAction::Suspend | CardAction::Unsuspend | CardAction::ReportLost)) => (a, json!({})),
        Some(CardAction::Activate) => {
            let typed = (f.pin.as_deref().unwrap_or(""), f.pin_confirmation.as_deref().unwrap_or(""));
            match Pin::parse_confirmed(typed.0, typed.1) {
                Ok(pin) => (CardAction::Activate, json!({ "pin": pin.expose() })),
                Err(e) => return back(PORTAL, Err(super::err_text(&v.t, &e.into()))),
            }
        }
        _ => return back(PORTAL, Err(v.t.s("err_no_such_action").into())),
    };
    back(PORTAL, act(&state, &v, actor, &ssn, body).await)
}

/// The holder's own mailed application.
pub async fn portal_apply(State(state): State<AppState>, v: Viewer, Form(f): Form<ApplyForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((ssn, _)) = own(&state, &actor).await else { return back(PORTAL, Err(v.t.s("err_no_person").into())) };
    apply_as(&state, &v, actor, &ssn, &f, PORTAL).await
}

/// The holder's own application's progress (the decider shows a holder only their own).
pub async fn portal_progress(State(state): State<AppState>, v: Viewer, Path(at): Path<(String, String)>) -> Response {
    match v.require(&[Role::Holder]) {
        Ok(actor) => progress_page(&state, &v, actor, at).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    ssn: String,
    reason: String,
}

/// The console's cross-region stop: a card held by another deployment, stopped there with a
/// reason (the decider records the clerk as `<this deployment>/<username>`).
pub async fn console_stop(State(state): State<AppState>, v: Viewer, Form(f): Form<StopForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ssn = match Ssn::parse(&f.ssn) {
        Ok(s) => s,
        Err(e) => return back("/console", Err(super::doc_err_text(&v.t, &e))),
    };
    let body = (CardAction::Stop, json!({ "reason": f.reason }));
    back("/console", act(&state, &v, actor, &ssn, body).await)
}
