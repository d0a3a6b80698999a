//! "Download my data" in the portal: the holder's browser session gets the same document as
//! `GET /api/v1/me/export` (an attachment, never cached), through a plain link, so no script
//! is needed.

use super::Viewer;
use crate::state::AppState;
use crate::terminal_auth::Caller;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sscard_domain::access::Role;

/// `GET /portal/export`: the logged-in holder's data as a JSON download.
pub async fn download(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(&[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match crate::routes::persons::export_me(State(state), Caller::User(actor)).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}
