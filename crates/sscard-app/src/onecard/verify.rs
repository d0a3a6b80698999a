//! A terminal verifies a QR code with its own secret (`POST /api/v1/ecard/verify`): any
//! enabled terminal may, whatever its scenario. The live verdict comes from the live e-card
//! set, the answer carries only the attributes of the terminal's scope, and the verification
//! is recorded as a use of the e-card (accepted or refused with its reason), so the holder sees
//! it in "who checked my card".

use super::{Presentation, use_row};
use crate::Ctx;
use crate::ecard::live_entry;
use crate::live::LiveEcards;
use sscard_domain::access::Role;
use sscard_domain::ecard::{disclose, live_verdict};
use sscard_domain::refusal::Refusal;
use sscard_domain::terminal::{Terminal, check_enabled, scoped};
use sscard_store::Result;
use sscard_store::tx::Store;

/// The attributes of the terminal's scope, or the reason the QR code is refused.
pub type TerminalVerdict = std::result::Result<serde_json::Map<String, serde_json::Value>, &'static str>;

/// `p` is what the server made of the token: `Ecard` when its signature and expiry hold,
/// `RefusedQr` otherwise (with the e-card when the signature verified).
pub async fn verify_qr(
    store: &dyn Store,
    live: &LiveEcards,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
) -> Result<TerminalVerdict> {
    check_enabled(terminal)?;
    let (ecard_id, refused) = match p {
        Presentation::Ecard { ecard_id } => (Some(ecard_id.as_str()), None),
        Presentation::RefusedQr { reason, ecard_id } => (ecard_id.as_deref(), Some(*reason)),
        Presentation::CardNo(_) => (None, Some(Refusal::Malformed.as_str())),
        // The server answers another deployment's code itself, from its deployment.
        Presentation::Visitor(_) => (None, Some(Refusal::ForeignCardLocalOnly.as_str())),
    };
    let entry = match ecard_id {
        Some(id) => live_entry(store, live, id).await?,
        None => None,
    };
    let verdict = match (&entry, refused) {
        (_, Some(reason)) => Err(reason),
        (None, None) => Err(Refusal::Revoked.as_str()),
        (Some(found), None) => {
            let (e, card, person) = &**found;
            live_verdict(Some(e), Some(card)).map_err(|r| r.as_str()).and_then(|()| {
                disclose(Role::Terminal, person, card, ctx.today(), &ctx.policy)
                    .map(|all| scoped(&terminal.scope, &all))
                    .map_err(|_| "forbidden")
            })
        }
    };
    let who = entry.as_deref().map(|(_, card, person)| (person, card));
    let mut tx = store.write().await?;
    tx.insert_use(&use_row(ctx, terminal, p, who, verdict.as_ref().err().copied())).await?;
    tx.commit().await?;
    Ok(verdict)
}
