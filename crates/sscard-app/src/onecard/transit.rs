//! Transit: e-wallet top-ups, online fare debits and offline batches (DESIGN §3.5).
//!
//! A batch is applied in one transaction, in sequence-number order: a gate killed mid-upload,
//! or a server killed mid-batch, uploads again and every (terminal, seq) already recorded
//! answers `duplicate` with its first outcome, so each transaction is applied exactly once.
//! Refused transactions are recorded too (with their reason), so they stay refused.

use super::ledger::{Leg, balance_changes, lock_accounts, org, plan_legs, post, wallet};
use super::{
    Presentation, holder, live_terminal, lookup, refusal_of, refused_holder, terminal_and_holder, terminal_subject,
    use_row, with_refusals,
};
use crate::{Ctx, Subject, new_id, record, record_rows};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access::Role;
use sscard_domain::card::Card;
use sscard_domain::card::CardStatus;
use sscard_domain::clock::china_date;
use sscard_domain::error::DomainError;
use sscard_domain::ids::CardNo;
use sscard_domain::ledger::{AccountId, AccountKind, TransferKind, TransferSpec, judge_key};
use sscard_domain::money::Fen;
use sscard_domain::person::Person;
use sscard_domain::terminal::{Scenario, Terminal, refusal_at};
use sscard_domain::transit::{
    TopupSource, check_batch, check_offline_time, decide_fare, decide_topup, fare_for, paying_card,
};
use sscard_store::onecard::{MAX_CARDS_PER_READ, TapRow, Writes};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::HashMap;

/// The answer to a top-up.
#[derive(Debug, Clone, Serialize)]
pub struct TopupView {
    pub transfer_id: String,
    pub card_no: String,
    pub amount_fen: i64,
    pub source: &'static str,
    pub balance_fen: i64,
    pub replayed: bool,
}

/// A top-up command: how much, from where, and the request's Idempotency-Key if it had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topup {
    pub amount: Fen,
    pub source: TopupSource,
    pub key: Option<String>,
}

impl Topup {
    /// The command from a request's fields (for the server and the CLI): a bad field is
    /// refused naming it (`amount_fen`, `source`).
    pub fn parse(amount_fen: i64, source: &str, key: Option<&str>) -> std::result::Result<Topup, DomainError> {
        let source = TopupSource::parse(source)
            .ok_or_else(|| DomainError::invalid("bad_source", "source", "source is bank or cash"))?;
        let amount = Fen::parse_amount(amount_fen).map_err(|e| DomainError::from(e).with_field("amount_fen"))?;
        Ok(Topup { amount, source, key: key.map(str::to_string) })
    }
}

/// Tops up the e-wallet of the presented card: the holder from the card's bank account (or
/// cash at a desk), staff at a service point, or a transit service-point terminal with cash.
/// The command's `key` (the request's Idempotency-Key) makes a repeat return the first result.
pub async fn topup(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: Option<&Terminal>,
    p: &Presentation,
    cmd: &Topup,
) -> Result<TopupView> {
    let (amount, source, key) = (cmd.amount, cmd.source, cmd.key.as_deref());
    let mut tx = store.write().await?;
    let (t, who) = match terminal {
        Some(t) => {
            let t = live_terminal(tx.as_mut(), &t.id, Scenario::Transit).await?;
            if source != TopupSource::Cash {
                return Err(DomainError::forbidden("a terminal tops up with cash only").into());
            }
            let who = format!("terminal:{}", t.id);
            (Some(t), who)
        }
        None => (None, ctx.actor.name.clone()),
    };
    let (person, card) = match &t {
        Some(t) => {
            let h = holder(tx.as_mut(), ctx, t, p).await?;
            (h.person, h.card)
        }
        None => {
            let (person, card) = lookup(tx.as_mut(), p).await?.map_err(|reason| refusal_of(p, reason))?;
            let owner = ctx.actor.role == Role::Holder && ctx.actor.person_id.as_deref() == Some(person.id.as_str());
            let staff = matches!(ctx.actor.role, Role::Admin | Role::Clerk | Role::Teller);
            if !owner && !staff {
                return Err(DomainError::forbidden("only the holder or staff may top up this e-wallet").into());
            }
            sscard_domain::terminal::check_card(&card, card.region, ctx.today())?;
            (person, card)
        }
    };
    let from: AccountId = match source {
        TopupSource::Bank => super::ledger::bank(card.card_no.as_str())?,
        TopupSource::Cash => org(
            AccountKind::Cash,
            t.as_ref()
                .map(|t| t.operator_code.clone())
                .or_else(|| ctx.actor.bank_code.clone())
                .as_deref()
                .unwrap_or("OFFICE"),
        )?,
    };
    let to = wallet(card.card_no.as_str())?;
    let idem_key = match key {
        Some(k) => format!("topup:{who}:{k}"),
        None => format!("topup:{}", new_id()),
    };
    let spec = TransferSpec { from: from.clone(), to: to.clone(), amount, kind: TransferKind::Topup };
    if let Some(first) = tx.transfer_by_key(&idem_key).await? {
        let old = TransferSpec {
            from: AccountId::parse(&first.from_account)?,
            to: AccountId::parse(&first.to_account)?,
            amount: Fen::new(first.amount_fen),
            kind: TransferKind::Topup,
        };
        judge_key(Some(&old), &spec)?;
        let balance = tx.get_account(&to.to_string(), false).await?.map_or(0, |a| a.balance_fen);
        return Ok(TopupView {
            transfer_id: first.id,
            card_no: card.card_no.as_str().to_string(),
            amount_fen: first.amount_fen,
            source: source.as_str(),
            balance_fen: balance,
            replayed: true,
        });
    }
    let holder_side = from.kind.is_holder().then_some(person.id.as_str());
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(from.clone(), holder_side), (to.clone(), Some(&person.id))]).await?;
    let current = Fen::new(balances.get(&to.to_string()).copied().unwrap_or(0));
    decide_topup(amount, current, source, card.pan.is_some())?;
    let leg = Leg { from, to: to.clone(), amount, kind: TransferKind::Topup, key: idem_key };
    let rows = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), card.card_no.as_str()).await?;
    let row = rows.into_iter().next().ok_or_else(|| StoreError::Backend("top-up not posted".into()))?;
    let balance = balances.get(&to.to_string()).copied().unwrap_or(0);
    let subject = Subject {
        entity: "account",
        entity_id: &row.to_account,
        person_id: &person.id,
        region: person.region.to_string(),
    };
    record(tx.as_mut(), ctx, "ewallet.topped_up", &subject, json!({ "transfer": row, "source": source.as_str() }))
        .await?;
    tx.commit().await?;
    Ok(TopupView {
        transfer_id: row.id,
        card_no: card.card_no.as_str().to_string(),
        amount_fen: amount.value(),
        source: source.as_str(),
        balance_fen: balance,
        replayed: false,
    })
}

/// The answer to an online tap.
#[derive(Debug, Clone, Serialize)]
pub struct TapView {
    pub tap_id: String,
    pub card_no: String,
    /// The fare charged (the resident fare when it applied).
    pub fare_fen: i64,
    pub resident: bool,
    pub balance_fen: i64,
}

/// An online fare debit at a gate.
pub async fn tap(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    fare_fen: i64,
    resident_fare_fen: Option<i64>,
) -> Result<TapView> {
    let outcome = tap_inner(store, ctx, terminal, p, fare_fen, resident_fare_fen).await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

async fn tap_inner(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    fare_fen: i64,
    resident_fare_fen: Option<i64>,
) -> Result<TapView> {
    let mut tx = store.write().await?;
    let (t, h) = terminal_and_holder(tx.as_mut(), ctx, &terminal.id, Scenario::Transit, p, false).await?;
    let fare = fare_for(fare_fen, resident_fare_fen, t.region, h.person.region)?;
    let w = wallet(h.card.card_no.as_str())?;
    let clearing = super::ledger::clearing(&t.operator_code)?;
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(w.clone(), Some(&h.person.id)), (clearing.clone(), None)]).await?;
    decide_fare(fare, Fen::new(balances.get(&w.to_string()).copied().unwrap_or(0)))?;
    let id = new_id();
    let leg = Leg { from: w.clone(), to: clearing, amount: fare, kind: TransferKind::Fare, key: format!("tap:{id}") };
    let locked = balances.clone();
    let transfers = plan_legs(ctx, &mut balances, std::slice::from_ref(&leg), &id)?;
    let row = TapRow {
        id: id.clone(),
        terminal_id: t.id.clone(),
        seq: None,
        card_no: Some(h.card.card_no.as_str().to_string()),
        person_id: Some(h.person.id.clone()),
        fare_fen: fare.value(),
        at_ms: ctx.now_ms,
        status: "applied".into(),
        reason: None,
        recorded_at_ms: ctx.now_ms,
    };
    let payload = json!({ "tap": row, "transfers": transfers });
    let record = record_rows(ctx, "transit.fare", &terminal_subject("transit_tap", &id, &h), payload);
    tx.write_all(&Writes {
        balances: balance_changes(&locked, &balances),
        transfers,
        taps: vec![row],
        uses: vec![use_row(ctx, &t, p, Some((&h.person, &h.card)), None)],
        record: Some(record),
        now_ms: ctx.now_ms,
        ..Writes::default()
    })
    .await?;
    tx.commit().await?;
    Ok(TapView {
        tap_id: id,
        card_no: h.card.card_no.as_str().to_string(),
        fare_fen: fare.value(),
        resident: fare.value() != fare_fen,
        balance_fen: balances.get(&w.to_string()).copied().unwrap_or(0),
    })
}

/// One offline transaction as uploaded; `presentation` is `Err(reason)` when the server
/// could not accept the QR code (bad signature, unknown key).
#[derive(Debug, Clone)]
pub struct OfflineItem {
    pub seq: i64,
    pub presentation: std::result::Result<Presentation, &'static str>,
    pub fare_fen: i64,
    pub resident_fare_fen: Option<i64>,
    pub at_ms: i64,
}

/// What became of one offline transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemResult {
    pub seq: i64,
    /// `applied`, `refused` or `duplicate` (already uploaded; `reason` then tells its first outcome).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fare_fen: Option<i64>,
}

/// Applies an offline batch from a gate (up to 10,000 lines) in order of sequence number, in
/// transactions of [`BATCH_CHUNK`] lines.
pub async fn batch(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    items: Vec<OfflineItem>,
) -> Result<Vec<ItemResult>> {
    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
    check_batch(&seqs)?;
    let mut items = items;
    items.sort_by_key(|i| i.seq);
    let mut results = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH_CHUNK) {
        results.extend(apply_chunk(store, ctx, terminal, chunk).await?);
    }
    Ok(results)
}

/// Lines applied per transaction: large enough that a batch costs few commits, small enough
/// that other writers (online taps, SQLite's single writer) wait at most a fraction of a second.
/// A crash between chunks leaves the first chunks applied; uploading the batch again applies
/// the rest and reports the others as duplicates.
pub const BATCH_CHUNK: usize = 1_000;

type Found = std::result::Result<(Person, Card), &'static str>;

async fn apply_chunk(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    items: &[OfflineItem],
) -> Result<Vec<ItemResult>> {
    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
    let mut tx = store.write().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Transit).await?;
    let clearing = super::ledger::clearing(&t.operator_code)?;
    // First pass, reading in bulk: which lines are new and who is behind them, so every
    // account is locked up front in id order.
    let mut earlier = earlier_lines(tx.as_mut(), &t.id, items).await?;
    let mut plan: Vec<(&OfflineItem, std::result::Result<Found, TapRow>)> = Vec::with_capacity(items.len());
    let mut new_items = Vec::with_capacity(items.len());
    for item in items {
        let first = match earlier.as_mut() {
            Some(known) => known.remove(&item.seq),
            None => tx.get_tap(&t.id, item.seq).await?,
        };
        match first {
            Some(first) => plan.push((item, Err(first))),
            None => new_items.push(item),
        }
    }
    let holders = holders_of(tx.as_mut(), &new_items).await?;
    // Replaced cards tapped before their replacement: the card whose wallet now holds the money.
    let mut payers: HashMap<String, String> = HashMap::new();
    let mut accounts: Vec<(AccountId, Option<String>)> = vec![(clearing.clone(), None)];
    for (person, card) in holders.values().filter_map(|f| f.as_ref().ok()) {
        let no = card.card_no.as_str();
        if card.status == CardStatus::Replaced && !payers.contains_key(no) {
            let live = tx.cards_of_person(&person.id).await?.into_iter().find(|c| c.status.is_live());
            payers.insert(no.to_string(), paying_card(card, live.as_ref()).card_no.as_str().to_string());
        }
        accounts.push((wallet(payer_of(&payers, no))?, Some(person.id.clone())));
    }
    let card_nos: Vec<String> =
        holders.values().filter_map(|f| f.as_ref().ok()).map(|(_, c)| c.card_no.as_str().to_string()).collect();
    let histories = card_histories(tx.as_mut(), &card_nos).await?;
    for item in new_items {
        let found = match (&item.presentation, presentation_key(item)) {
            (_, Some(k)) => holders.get(&k).cloned().unwrap_or(Err("unknown_card")),
            (Ok(Presentation::RefusedQr { reason, .. }) | Err(reason), None) => Err(*reason),
            (Ok(_), None) => Err("unknown_card"),
        };
        plan.push((item, Ok(found)));
    }
    plan.sort_by_key(|(item, _)| item.seq);
    let refs: Vec<(AccountId, Option<&str>)> = accounts.iter().map(|(a, p)| (a.clone(), p.as_deref())).collect();
    let mut balances = lock_accounts(tx.as_mut(), ctx, &refs).await?;
    let locked = balances.clone();
    let mut writes = Writes { now_ms: ctx.now_ms, ..Writes::default() };
    let mut results = Vec::with_capacity(plan.len());
    let (mut applied, mut refused, mut total) = (0u32, 0u32, 0i64);
    for (item, step) in plan {
        let found = match step {
            Err(first) => {
                let reason = match first.status.as_str() {
                    "applied" => "already_applied".to_string(),
                    _ => format!("already_refused:{}", first.reason.unwrap_or_default()),
                };
                results.push(ItemResult { seq: item.seq, status: "duplicate", reason: Some(reason), fare_fen: None });
                continue;
            }
            Ok(found) => found,
        };
        let decision: std::result::Result<(Fen, &Person, &Card, &str), &'static str> = (|| {
            check_offline_time(item.at_ms, ctx.now_ms)?;
            let (person, card) = found.as_ref().map_err(|r| *r)?;
            let history = histories.get(card.card_no.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(reason) = refusal_at(card, history, item.at_ms) {
                return Err(reason);
            }
            if card.expires_on < china_date(item.at_ms) {
                return Err("card_expired");
            }
            let fare =
                fare_for(item.fare_fen, item.resident_fare_fen, t.region, person.region).map_err(|_| "bad_fare")?;
            let payer = payer_of(&payers, card.card_no.as_str());
            let w = balances.get(&format!("ewallet:{payer}")).copied().unwrap_or(0);
            decide_fare(fare, Fen::new(w)).map_err(|e| e.code)?;
            Ok((fare, person, card, payer))
        })();
        let who = found.as_ref().ok();
        let mut row = TapRow {
            id: new_id(),
            terminal_id: t.id.clone(),
            seq: Some(item.seq),
            card_no: who.map(|(_, c)| c.card_no.as_str().to_string()),
            person_id: who.map(|(p, _)| p.id.clone()),
            fare_fen: item.fare_fen.max(0),
            at_ms: item.at_ms,
            status: "applied".into(),
            reason: None,
            recorded_at_ms: ctx.now_ms,
        };
        let p = item.presentation.clone().unwrap_or(Presentation::CardNo(String::new()));
        match decision {
            Ok((fare, person, card, payer)) => {
                let leg = Leg {
                    from: wallet(payer)?,
                    to: clearing.clone(),
                    amount: fare,
                    kind: TransferKind::Fare,
                    key: format!("tap:{}:{}", t.id, item.seq),
                };
                // No tap row for this line (checked above), so no transfer under its key either:
                // they commit together.
                writes.transfers.extend(plan_legs(ctx, &mut balances, std::slice::from_ref(&leg), &row.id)?);
                row.fare_fen = fare.value();
                writes.uses.push(use_row(ctx, &t, &p, Some((person, card)), None));
                applied += 1;
                total += fare.value();
                results.push(ItemResult {
                    seq: item.seq,
                    status: "applied",
                    reason: None,
                    fare_fen: Some(fare.value()),
                });
            }
            Err(reason) => {
                row.status = "refused".into();
                row.reason = Some(reason.to_string());
                // A refused QR code whose signature verified still names its holder.
                let known = match (&item.presentation, who) {
                    (Ok(p @ Presentation::RefusedQr { .. }), None) => refused_holder(tx.as_mut(), p).await?,
                    _ => None,
                };
                let who = who.map(|(p, c)| (p, c)).or(known.as_ref().map(|(p, c)| (p, c)));
                writes.uses.push(use_row(ctx, &t, &p, who, Some(reason)));
                refused += 1;
                results.push(ItemResult {
                    seq: item.seq,
                    status: "refused",
                    reason: Some(reason.to_string()),
                    fare_fen: None,
                });
            }
        }
        writes.taps.push(row);
    }
    writes.balances = balance_changes(&locked, &balances);
    let batch_id = new_id();
    let subject =
        Subject { entity: "transit_batch", entity_id: &batch_id, person_id: "", region: t.region.to_string() };
    let payload = json!({ "terminal_id": t.id, "applied": applied, "refused": refused, "total_fen": total,
        "seqs": seqs });
    writes.record = Some(record_rows(ctx, "transit.batch", &subject, payload));
    tx.write_all(&writes).await?;
    tx.commit().await?;
    Ok(results)
}

/// The lines of `items` the gate already uploaded, by seq, in one read (the items are sorted
/// by seq); `None` when the gate has more taps in that range than one read returns (the
/// caller then asks line by line).
async fn earlier_lines(
    tx: &mut dyn sscard_store::Tx,
    terminal_id: &str,
    items: &[OfflineItem],
) -> Result<Option<HashMap<i64, TapRow>>> {
    let (Some(first), Some(last)) = (items.first(), items.last()) else { return Ok(Some(HashMap::new())) };
    let read_limit = 2 * BATCH_CHUNK as u32;
    let found = tx.taps_between(terminal_id, first.seq, last.seq, read_limit).await?;
    Ok((found.len() < read_limit as usize)
        .then(|| found.into_iter().filter_map(|tap| tap.seq.map(|seq| (seq, tap))).collect()))
}

/// How a line names its holder, as a key of [`holders_of`]; `None` for a refused QR code.
fn presentation_key(item: &OfflineItem) -> Option<String> {
    match &item.presentation {
        Ok(Presentation::CardNo(no)) => Some(format!("card:{no}")),
        Ok(Presentation::Ecard { ecard_id }) => Some(format!("ecard:{ecard_id}")),
        _ => None,
    }
}

/// Who is behind each card number and e-card of the lines: all card numbers in one read, each
/// e-card once.
async fn holders_of(tx: &mut dyn sscard_store::Tx, items: &[&OfflineItem]) -> Result<HashMap<String, Found>> {
    let mut out: HashMap<String, Found> = HashMap::new();
    // (as presented, as parsed)
    let mut numbers: Vec<(String, String)> = Vec::new();
    for item in items {
        match &item.presentation {
            Ok(Presentation::CardNo(no)) => match CardNo::parse(no) {
                Ok(parsed) => numbers.push((no.clone(), parsed.as_str().to_string())),
                Err(_) => {
                    out.insert(format!("card:{no}"), Err("unknown_card"));
                }
            },
            Ok(p @ Presentation::Ecard { ecard_id }) => {
                let key = format!("ecard:{ecard_id}");
                if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(key) {
                    slot.insert(lookup(tx, p).await?);
                }
            }
            _ => {}
        }
    }
    let mut parsed: Vec<String> = numbers.iter().map(|(_, p)| p.clone()).collect();
    parsed.sort();
    parsed.dedup();
    let mut cards: HashMap<String, (Person, Card)> = HashMap::with_capacity(parsed.len());
    for chunk in parsed.chunks(MAX_CARDS_PER_READ) {
        for (card, person) in tx.cards_with_persons(chunk).await? {
            cards.insert(card.card_no.as_str().to_string(), (person, card));
        }
    }
    for (raw, parsed) in numbers {
        let found = cards.get(&parsed).cloned().ok_or("unknown_card");
        out.insert(format!("card:{raw}"), found);
    }
    Ok(out)
}

/// The card whose wallet pays for a tap of `card_no` (see [`paying_card`]).
fn payer_of<'a>(payers: &'a std::collections::HashMap<String, String>, card_no: &'a str) -> &'a str {
    payers.get(card_no).map_or(card_no, String::as_str)
}

/// Most state changes of one card read to judge offline transactions.
const MAX_CARD_HISTORY: u32 = 1000;

/// Each card's states over time, oldest first, from its audit records: the `to` status of
/// each change (`status` for imported cards); production and hand-over carry none. One read
/// for all cards; card by card when that read is full.
async fn card_histories(
    tx: &mut dyn sscard_store::Tx,
    card_nos: &[String],
) -> Result<HashMap<String, Vec<(i64, CardStatus)>>> {
    let mut out: HashMap<String, Vec<(i64, CardStatus)>> = HashMap::new();
    for chunk in card_nos.chunks(MAX_CARDS_PER_READ) {
        let limit = 20 * chunk.len() as u32;
        let mut rows = tx.card_audits(chunk, limit).await?;
        if rows.len() >= limit as usize {
            rows.clear();
            for no in chunk {
                rows.extend(tx.audit_of_entity("card", no, MAX_CARD_HISTORY).await?);
            }
        }
        for r in rows {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            let to =
                detail.get("to").or_else(|| detail.get("status")).and_then(|v| v.as_str()).and_then(CardStatus::parse);
            let status = match (to, r.action.as_str()) {
                (Some(s), _) => s,
                (None, "card.produced") => CardStatus::Produced,
                (None, "card.issued") => CardStatus::Issued,
                _ => continue,
            };
            out.entry(r.entity_id.clone()).or_default().push((r.at_ms, status));
        }
    }
    Ok(out)
}
