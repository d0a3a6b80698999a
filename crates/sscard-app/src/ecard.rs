//! The electronic card: keeping each e-card in step with its person's cards
//! (called in the same transaction as every card change), what a QR code and a verification
//! need from the database, channel and family authorizations, the revocation feed and the
//! stored issuer keys. Signing and sealing happen in the server; the rules in sscard-domain.

use super::{Ctx, Subject, new_id, not_found, record};
use crate::live::{LiveEcards, LiveEntry};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::Card;
use sscard_domain::ecard::{
    self, Attributes, AuthKind, AuthStatus, Authorization, Ecard, EcardChange, EcardStatus, decide_channel_signin,
    decide_family_grant, decide_revoke, decide_sync,
};
use sscard_domain::error::DomainError;
use sscard_domain::nation::trust::KeyIdRange;
use sscard_domain::person::Person;
use sscard_domain::refusal::Refusal;
use sscard_store::model::{IssuerKeyRow, RevocationChange, User};
use sscard_store::ports::{AuditLog, Cards, Ecards};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Largest page of the revocation feed.
pub const MAX_REVOCATIONS: u32 = 10_000;

fn subject<'a>(e: &'a Ecard) -> Subject<'a> {
    Subject { entity: "ecard", entity_id: &e.id, person_id: &e.person_id, region: e.region.to_string() }
}

/// Brings the person's e-card in line with their cards after a card change, in the caller's
/// transaction (the person row is already locked). Writes `ecard.issued`, `ecard.stopped`,
/// `ecard.restored` or `ecard.repointed` with its audit record when something changes.
pub async fn sync_in(
    tx: &mut (impl AuditLog + Cards + Ecards + ?Sized),
    ctx: &Ctx,
    person: &Person,
) -> Result<Option<Ecard>> {
    let current = tx.ecard_of_person(&person.id).await?;
    let cards = tx.cards_of_person(&person.id).await?;
    apply_sync(tx, ctx, person, current, &cards).await
}

/// The sync after one card changed. When that card was live and is the e-card's card, no other
/// card of the person can be live (one live card per person), so the rule needs only this card
/// and the person's other cards are not read again.
pub async fn sync_after_change(
    tx: &mut (impl AuditLog + Cards + Ecards + ?Sized),
    ctx: &Ctx,
    person: &Person,
    changed: &Card,
    was_live: bool,
) -> Result<Option<Ecard>> {
    let current = tx.ecard_of_person(&person.id).await?;
    let cards = match &current {
        Some(e) if was_live && e.card_no == changed.card_no => vec![changed.clone()],
        _ => tx.cards_of_person(&person.id).await?,
    };
    apply_sync(tx, ctx, person, current, &cards).await
}

async fn apply_sync(
    tx: &mut (impl AuditLog + Ecards + ?Sized),
    ctx: &Ctx,
    person: &Person,
    current: Option<Ecard>,
    cards: &[Card],
) -> Result<Option<Ecard>> {
    let change = decide_sync(current.as_ref(), cards);
    let (mut e, kind, reason) = match (change, current) {
        (EcardChange::Unchanged, current) => return Ok(current),
        (EcardChange::Issue { card_no }, _) => {
            let e = Ecard {
                id: hex::encode(sscard_gm::rand::random_bytes::<16>()),
                person_id: person.id.clone(),
                region: person.region,
                card_no,
                status: EcardStatus::Active,
                created_at_ms: ctx.now_ms,
                updated_at_ms: ctx.now_ms,
            };
            tx.insert_ecard(&e).await?;
            let payload = json!({ "ecard_id": e.id, "card_no": e.card_no.as_str(), "usable": true });
            record(tx, ctx, "ecard.issued", &subject(&e), payload).await?;
            return Ok(Some(e));
        }
        (_, None) => return Ok(None),
        (EcardChange::Restore { card_no }, Some(mut e)) => {
            e.card_no = card_no;
            e.status = EcardStatus::Active;
            (e, "ecard.restored", None)
        }
        (EcardChange::Repoint { card_no } | EcardChange::Follow { card_no }, Some(mut e)) => {
            e.card_no = card_no;
            (e, "ecard.repointed", None)
        }
        (EcardChange::Stop { card_no, reason }, Some(mut e)) => {
            e.card_no = card_no;
            e.status = EcardStatus::Stopped;
            (e, "ecard.stopped", Some(reason))
        }
    };
    e.updated_at_ms = ctx.now_ms;
    tx.update_ecard(&e).await?;
    let mut payload = json!({ "ecard_id": e.id, "card_no": e.card_no.as_str(), "usable": e.usable() });
    if let Some(reason) = reason {
        payload["reason"] = json!(reason);
    }
    record(tx, ctx, kind, &subject(&e), payload).await?;
    Ok(Some(e))
}

/// A person's e-card, if the actor may see the person.
pub async fn of_person(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Ecard> {
    if ctx.actor.person_id.as_deref() != Some(person_id) {
        access::may_view_person(&ctx.actor, person_id)?;
    }
    let mut tx = store.read().await?;
    let e = tx.ecard_of_person(person_id).await?;
    tx.commit().await?;
    e.ok_or_else(|| not_found("e-card of person", person_id))
}

/// Everything a QR code is made from.
#[derive(Debug, Clone)]
pub struct QrSubject {
    pub ecard: Ecard,
    pub card: Card,
    pub person: Person,
}

/// Checks that the actor may show `person_id`'s QR code and that the card is active now.
pub async fn qr_subject(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<QrSubject> {
    let mut tx = store.read().await?;
    let family = match ctx.actor.person_id.as_deref() {
        Some(me) if me != person_id => tx.family_grants_to(me).await?,
        _ => Vec::new(),
    };
    ecard::may_show_qr(&ctx.actor, person_id, &family)?;
    let person = tx.get_person(person_id, false).await?.ok_or_else(|| not_found("person", person_id))?;
    let e = tx.ecard_of_person(person_id).await?.ok_or_else(|| {
        DomainError::refused("no_ecard", "this person has no e-card yet: it is issued when a card is activated")
    })?;
    let card = tx.get_card(e.card_no.as_str(), false).await?.ok_or_else(|| not_found("card", e.card_no.as_str()))?;
    tx.commit().await?;
    ecard::decide_qr(&e, &card)?;
    Ok(QrSubject { ecard: e, card, person })
}

/// The live part of an online verification: the e-card and its card as they are now (from
/// the live set when held, see [`sscard_store::live`]), and the attributes the actor's role may see. `Ok(Err(code))` when the e-card is not usable.
pub async fn verify_live(
    store: &dyn Store,
    live: &LiveEcards,
    ctx: &Ctx,
    ecard_id: &str,
) -> Result<std::result::Result<Attributes, &'static str>> {
    ecard::may_verify(&ctx.actor)?;
    let Some(entry) = live_entry(store, live, ecard_id).await? else { return Ok(Err(Refusal::Revoked.as_str())) };
    let (e, card, person) = &*entry;
    if let Err(code) = ecard::live_verdict(Some(e), Some(card)) {
        return Ok(Err(code.as_str()));
    }
    Ok(Ok(ecard::disclose(ctx.actor.role, person, card, ctx.today(), &ctx.policy)?))
}

/// An e-card with its card and holder: from the live set, or read and then held there.
pub async fn live_entry(store: &dyn Store, live: &LiveEcards, ecard_id: &str) -> Result<Option<LiveEntry>> {
    if let Some(found) = live.get(ecard_id) {
        return Ok(Some(found));
    }
    let generation = live.generation();
    let Some(read) = store.ecard_with_card(ecard_id).await? else { return Ok(None) };
    let entry = std::sync::Arc::new(read);
    live.put(generation, entry.clone());
    Ok(Some(entry))
}

/// The staff account that may log in with this e-card, or the reason it may not.
pub async fn staff_of_ecard(store: &dyn Store, ecard_id: &str) -> Result<std::result::Result<User, &'static str>> {
    let mut tx = store.read().await?;
    let Some(e) = tx.get_ecard(ecard_id).await? else { return Ok(Err(Refusal::Revoked.as_str())) };
    let card = tx.get_card(e.card_no.as_str(), false).await?;
    if let Err(code) = ecard::live_verdict(Some(&e), card.as_ref()) {
        return Ok(Err(code.as_str()));
    }
    let users = tx.users_of_person(&e.person_id).await?;
    tx.commit().await?;
    Ok(users.into_iter().find(|u| ecard::may_qr_login(u.role)).ok_or("not_staff"))
}

/// The authorizations a person granted (channel sign-ins and family), newest first.
pub async fn authorizations(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Vec<Authorization>> {
    ecard::may_manage_authorizations(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    let found = tx.authorizations_of_person(person_id).await?;
    tx.commit().await?;
    Ok(found)
}

/// What a new authorization is for.
#[derive(Debug, Clone)]
pub enum Grant {
    Channel(String),
    Family { grantee_person_id: String },
}

/// Signs the e-card into a channel or authorizes a relative, with its event and audit record.
pub async fn grant(store: &dyn Store, ctx: &Ctx, person_id: &str, what: Grant) -> Result<Authorization> {
    ecard::may_manage_authorizations(&ctx.actor, person_id)?;
    let mut tx = store.write().await?;
    let person = tx.get_person(person_id, true).await?.ok_or_else(|| not_found("person", person_id))?;
    let e = tx.ecard_of_person(person_id).await?.ok_or_else(|| {
        DomainError::refused("no_ecard", "this person has no e-card yet: it is issued when a card is activated")
    })?;
    let existing = tx.authorizations_of_person(person_id).await?;
    let (kind, channel, grantee) = match what {
        Grant::Channel(name) => (AuthKind::Channel, Some(decide_channel_signin(&e, &name, &existing)?), None),
        Grant::Family { grantee_person_id } => {
            let grantee = tx.get_person(&grantee_person_id, false).await?.ok_or_else(|| {
                DomainError::invalid(
                    "grantee_unknown",
                    "grantee_person_id",
                    format!("no person {grantee_person_id} is registered"),
                )
            })?;
            decide_family_grant(&person, &grantee, &existing)?;
            (AuthKind::Family, None, Some(grantee.id))
        }
    };
    let auth = Authorization {
        id: new_id(),
        ecard_id: e.id.clone(),
        person_id: person.id.clone(),
        kind,
        channel,
        grantee_person_id: grantee,
        status: AuthStatus::Active,
        created_at_ms: ctx.now_ms,
        revoked_at_ms: None,
    };
    tx.insert_authorization(&auth).await?;
    let payload = json!({ "ecard_id": e.id, "authorization_id": auth.id, "kind": kind.as_str(),
        "channel": auth.channel, "grantee_person_id": auth.grantee_person_id });
    record(tx.as_mut(), ctx, "ecard_authorization.granted", &auth_subject(&auth, &e), payload).await?;
    tx.commit().await?;
    Ok(auth)
}

fn auth_subject<'a>(a: &'a Authorization, e: &Ecard) -> Subject<'a> {
    Subject { entity: "ecard_authorization", entity_id: &a.id, person_id: &a.person_id, region: e.region.to_string() }
}

/// A relative who lets the actor show their QR code, by masked name.
#[derive(Debug, Clone)]
pub struct FamilyGrant {
    pub person_id: String,
    pub masked_name: String,
}

/// The holders who authorized `person_id` (the actor themself) to show their QR code.
pub async fn family_granted_to(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Vec<FamilyGrant>> {
    access::may_view_person(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    let grants = tx.family_grants_to(person_id).await?;
    let mut out = Vec::new();
    for g in grants {
        if let Some(p) = tx.get_person(&g.person_id, false).await? {
            out.push(FamilyGrant { person_id: p.id, masked_name: p.name.masked() });
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Authorizes a relative named by their social security number (what a holder knows of a
/// relative); the number is only matched, never shown back.
pub async fn grant_family_by_ssn(
    store: &dyn Store,
    ctx: &Ctx,
    person_id: &str,
    ssn: &sscard_domain::document::Ssn,
) -> Result<Authorization> {
    ecard::may_manage_authorizations(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    let grantee = tx.find_person_by_ssn(ssn.as_str()).await?;
    tx.commit().await?;
    let grantee = grantee.ok_or_else(|| {
        DomainError::invalid("grantee_unknown", "grantee_ssn", format!("no person {} is registered", ssn.masked()))
    })?;
    grant(store, ctx, person_id, Grant::Family { grantee_person_id: grantee.id }).await
}

/// Revokes one of the person's authorizations.
pub async fn revoke(store: &dyn Store, ctx: &Ctx, person_id: &str, auth_id: &str) -> Result<Authorization> {
    ecard::may_manage_authorizations(&ctx.actor, person_id)?;
    let mut tx = store.write().await?;
    let mut auth = tx.get_authorization(auth_id).await?.ok_or_else(|| not_found("authorization", auth_id))?;
    if auth.person_id != person_id {
        return Err(not_found("authorization", auth_id));
    }
    decide_revoke(&auth)?;
    let e = tx.get_ecard(&auth.ecard_id).await?.ok_or_else(|| not_found("e-card", &auth.ecard_id))?;
    auth.status = AuthStatus::Revoked;
    auth.revoked_at_ms = Some(ctx.now_ms);
    tx.update_authorization(&auth).await?;
    let payload = json!({ "ecard_id": e.id, "authorization_id": auth.id, "kind": auth.kind.as_str() });
    record(tx.as_mut(), ctx, "ecard_authorization.revoked", &auth_subject(&auth, &e), payload).await?;
    tx.commit().await?;
    Ok(auth)
}

/// One page of the revocation feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationPage {
    /// since = 0: ids of the e-cards not usable now (this page of them).
    pub revoked: Vec<String>,
    /// since > 0: the changes after `since`.
    pub changes: Vec<RevocationChange>,
    /// Ask next with `since=next_since`.
    pub next_since: i64,
    /// since = 0 with more ids than `limit`: ask again with `after=` this id.
    pub next_after: Option<String>,
    /// More changes (since > 0) or ids (since = 0) are waiting.
    pub more: bool,
}

/// The revocation list: `since = 0` the full set of unusable e-cards (paged by `after`) and
/// the sequence number it is current to; `since > 0` the usable/unusable changes after it.
pub async fn revocations(store: &dyn Store, since: i64, after: Option<&str>, limit: u32) -> Result<RevocationPage> {
    let limit = limit.clamp(1, MAX_REVOCATIONS);
    let mut tx = store.read().await?;
    let page = if since <= 0 {
        // The cursor is read first: a change racing with the list is replayed by the next delta.
        let max = tx.max_event_seq().await?;
        let ids = tx.stopped_ecards(after, limit).await?;
        let more = ids.len() as u32 == limit;
        RevocationPage {
            next_after: if more { ids.last().cloned() } else { None },
            revoked: ids,
            changes: Vec::new(),
            next_since: max,
            more,
        }
    } else {
        let events = tx.ecard_events_after(since, limit).await?;
        let more = events.len() as u32 == limit;
        let next_since = match events.last() {
            Some(last) if more => last.seq,
            // Nothing more of ours: skip past unrelated events too.
            _ => tx.max_event_seq().await?.max(events.last().map_or(since, |e| e.seq)),
        };
        let changes = events
            .iter()
            .map(|ev| {
                let usable =
                    ev.payload.get("usable").and_then(|u| u.as_bool()).ok_or_else(|| {
                        StoreError::corrupt(format!("event {} ({}) has no usable flag", ev.seq, ev.kind))
                    })?;
                Ok(RevocationChange { seq: ev.seq, ecard_id: ev.entity_id.clone(), usable })
            })
            .collect::<Result<Vec<_>>>()?;
        RevocationPage { revoked: Vec::new(), changes, next_since, next_after: None, more }
    };
    tx.commit().await?;
    Ok(page)
}

/// Events read at most per call of [`persons_changed_after`].
pub const MAX_CHANGES_PAGE: u32 = 1_000;

/// The persons named by events after `seq` (at most [`MAX_CHANGES_PAGE`] events) and the
/// sequence number to ask from next; `seq` = None: nothing, and the current head.
pub async fn persons_changed_after(store: &dyn Store, seq: Option<i64>) -> Result<(Vec<String>, i64)> {
    let mut tx = store.read().await?;
    let answer = match seq {
        None => (Vec::new(), tx.max_event_seq().await?),
        Some(seq) => {
            let events = tx.events_after(seq, MAX_CHANGES_PAGE).await?;
            let next = events.last().map_or(seq, |e| e.seq);
            let mut persons: Vec<String> = events.into_iter().map(|e| e.person_id).filter(|p| !p.is_empty()).collect();
            persons.sort_unstable();
            persons.dedup();
            (persons, next)
        }
    };
    tx.commit().await?;
    Ok(answer)
}

/// All stored issuer keys.
pub async fn issuer_keys(store: &dyn Store) -> Result<Vec<IssuerKeyRow>> {
    let mut tx = store.read().await?;
    let keys = tx.issuer_keys().await?;
    tx.commit().await?;
    Ok(keys)
}

/// Stores a new issuer key (its private half already sealed) with its audit record. With
/// `retire_others_at_ms`, every other key still valid then stops being valid at that time.
/// Its id is the next of `range` for a deployment in the nation (unique in the nation), else
/// one more than the highest (`sscard_domain::nation::trust::next_key_id`).
pub async fn add_issuer_key(
    store: &dyn Store,
    ctx: &Ctx,
    mut key: IssuerKeyRow,
    retire_others_at_ms: Option<i64>,
    range: Option<KeyIdRange>,
) -> Result<IssuerKeyRow> {
    access::may_administer(&ctx.actor)?;
    let mut tx = store.write().await?;
    let existing = tx.issuer_keys().await?;
    let ids: Vec<u32> = existing.iter().map(|k| k.key_id).collect();
    key.key_id = sscard_domain::nation::trust::next_key_id(&ids, range)?;
    tx.insert_issuer_key(&key).await?;
    let mut retired = Vec::new();
    if let Some(at) = retire_others_at_ms {
        for old in existing.iter().filter(|k| k.not_after_ms > at && k.not_before_ms <= at) {
            tx.set_issuer_key_not_after(old.key_id, at).await?;
            retired.push(old.key_id);
        }
    }
    let id = key.key_id.to_string();
    let payload = json!({ "key_id": key.key_id, "not_before_ms": key.not_before_ms, "not_after_ms": key.not_after_ms,
        "retired": retired, "retired_at_ms": retire_others_at_ms });
    let subject = Subject { entity: "issuer_key", entity_id: &id, person_id: "", region: String::new() };
    record(tx.as_mut(), ctx, "issuer_key.created", &subject, payload).await?;
    tx.commit().await?;
    Ok(key)
}
