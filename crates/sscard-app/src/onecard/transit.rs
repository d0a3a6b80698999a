//! Transit: e-wallet top-ups, online fare debits and offline batches.
//!
//! A batch is applied in one transaction, in sequence-number order: a gate killed mid-upload,
//! or a server killed mid-batch, uploads again and every (terminal, seq) already recorded
//! answers `duplicate` with its first outcome, so each transaction is applied exactly once.
//! Refused transactions are recorded too (with their reason), so they stay refused.

use super::ledger::{Leg, Locked, balance_changes, lock_accounts, plan_legs, post, wallet};
use super::{
    Presentation, holder, live_terminal, lookup, refusal_of, refused_holder, terminal_and_holder, terminal_subject,
    use_row, with_refusals,
};
use crate::{Ctx, Subject, new_id, record, record_rows};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::Card;
use sscard_domain::card::CardStatus;
use sscard_domain::error::DomainError;
use sscard_domain::ids::{CardNo, EcardId};
use sscard_domain::ledger::{AccountId, CashPoint, TransferKind, TransferSpec, judge_key};
use sscard_domain::money::Fen;
use sscard_domain::person::Person;
use sscard_domain::refusal::Refusal;
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_domain::transit::{
    Fare, LineHolder, LineStatus, OfflineLine, TapStatus, TopupSource, check_batch, decide_fare, decide_topup,
    duplicate_reason, judge_line, paying_card, topup_accounts,
};
use sscard_store::model::{NewAudit, NewEvent};
use sscard_store::onecard::{MAX_CARDS_PER_READ, TapRow, TransferRow, Writes};
use sscard_store::ports::{AuditLog, Cards, Ecards, Ledger, Terminals, Transit};
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

/// Tops up the e-wallet of the presented card: the holder from the card's bank account, staff
/// at a service point (bank or cash), or a transit service-point terminal with cash. Cash draws
/// the point's float (refused `float_exhausted` when it is short, nothing moving).
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
    let (t, person, card) = topup_holder(tx.as_mut(), ctx, terminal, p, source).await?;
    let who = t.as_ref().map_or_else(|| ctx.actor.name.clone(), |t| format!("terminal:{}", t.id));
    let point = CashPoint::of_desk(t.as_ref().map(|t| t.operator_code.as_str()), ctx.actor.bank_code.as_deref());
    let (from, to) = topup_accounts(source, &card.card_no, &point)?;
    let idem_key = match key {
        Some(k) => format!("topup:{who}:{k}"),
        None => format!("topup:{}", new_id()),
    };
    let spec = TransferSpec { from: from.clone(), to: to.clone(), amount, kind: TransferKind::Topup };
    if let Some(first) = tx.transfer_by_key(&idem_key).await? {
        return topup_replay(tx.as_mut(), first, &spec, &card, source).await;
    }
    let holder_side = from.kind.is_holder().then_some(person.id.as_str());
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(from.clone(), holder_side), (to.clone(), Some(&person.id))]).await?;
    let current = Fen::new(balances.get(&to).copied().unwrap_or(0));
    decide_topup(amount, current, source, card.pan.is_some())?;
    let leg = Leg { from, to: to.clone(), amount, kind: TransferKind::Topup, key: idem_key };
    let rows = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), card.card_no.as_str()).await?;
    let row = rows.into_iter().next().ok_or_else(|| StoreError::Backend("top-up not posted".into()))?;
    let subject = Subject {
        entity: "account",
        entity_id: &row.to_account,
        person_id: &person.id,
        region: person.region.to_string(),
    };
    let payload = json!({ "transfer": row, "source": source.as_str() });
    record(tx.as_mut(), ctx, "ewallet.topped_up", &subject, payload).await?;
    tx.commit().await?;
    Ok(TopupView {
        transfer_id: row.id,
        card_no: card.card_no.as_str().to_string(),
        amount_fen: amount.value(),
        source: source.as_str(),
        balance_fen: balances.get(&to).copied().unwrap_or(0),
        replayed: false,
    })
}

/// Who tops up whose wallet: at a terminal (live, transit, cash only) the holder it judges;
/// elsewhere the presented card's holder, when the caller may top it up and the card is usable.
async fn topup_holder(
    tx: &mut (impl Ecards + Terminals + ?Sized),
    ctx: &Ctx,
    terminal: Option<&Terminal>,
    p: &Presentation,
    source: TopupSource,
) -> Result<(Option<Terminal>, Person, Card)> {
    if let Some(t) = terminal {
        let t = live_terminal(tx, &t.id, Scenario::Transit).await?;
        access::may_terminal_top_up(source)?;
        let h = holder(tx, ctx, &t, p).await?;
        return Ok((Some(t), h.person, h.card));
    }
    let (person, card) = lookup(tx, p).await?.map_err(|reason| refusal_of(p, reason))?;
    access::may_top_up(&ctx.actor, &person.id, source)?;
    sscard_domain::terminal::check_card(&card, card.region, ctx.today())?;
    Ok((None, person, card))
}

/// The answer to a top-up whose key was used before: the first top-up when it was the same
/// (no money moves), a 409 otherwise.
async fn topup_replay(
    tx: &mut (impl Ledger + ?Sized),
    first: TransferRow,
    spec: &TransferSpec,
    card: &Card,
    source: TopupSource,
) -> Result<TopupView> {
    let old = TransferSpec {
        from: AccountId::parse(&first.from_account)?,
        to: AccountId::parse(&first.to_account)?,
        amount: Fen::new(first.amount_fen),
        kind: TransferKind::Topup,
    };
    judge_key(Some(&old), spec)?;
    let balance = tx.get_account(&spec.to.to_string(), false).await?.map_or(0, |a| a.balance_fen);
    Ok(TopupView {
        transfer_id: first.id,
        card_no: card.card_no.as_str().to_string(),
        amount_fen: first.amount_fen,
        source: source.as_str(),
        balance_fen: balance,
        replayed: true,
    })
}

/// The answer to an online tap.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TapView {
    pub tap_id: String,
    pub card_no: String,
    /// The fare charged (the resident fare when it applied).
    pub fare_fen: i64,
    pub resident: bool,
    pub balance_fen: i64,
}

/// An online fare debit at a gate. With an Idempotency-Key in `ctx` (the header, or the
/// gate's own transaction id) the answer is kept with the tap, so a gate that lost the answer
/// and asks again gets it without being charged twice.
pub async fn tap(store: &dyn Store, ctx: &Ctx, terminal: &Terminal, p: &Presentation, fare: &Fare) -> Result<TapView> {
    let outcome = tap_inner(store, ctx, terminal, p, fare).await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

async fn tap_inner(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    asked: &Fare,
) -> Result<TapView> {
    let mut tx = store.write().await?;
    let (t, h) = terminal_and_holder(tx.as_mut(), ctx, &terminal.id, Scenario::Transit, p, false).await?;
    let fare = asked.charge(t.region, h.person.region);
    let w = wallet(h.card.card_no.as_str())?;
    let clearing = super::ledger::clearing(&t.operator_code)?;
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(w.clone(), Some(&h.person.id)), (clearing.clone(), None)]).await?;
    decide_fare(fare, Fen::new(balances.get(&w).copied().unwrap_or(0)))?;
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
        status: TapStatus::Applied,
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
    let view = TapView {
        tap_id: id,
        card_no: h.card.card_no.as_str().to_string(),
        fare_fen: fare.value(),
        resident: fare != asked.full,
        balance_fen: balances.get(&w).copied().unwrap_or(0),
    };
    crate::remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
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
    /// Applied, refused, or a duplicate (already uploaded; `reason` then tells its first outcome).
    pub status: LineStatus,
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

type Found = std::result::Result<(Person, Card), Refusal>;

/// One line of a chunk: its first outcome when the gate uploaded it before, else who is behind it.
enum Step {
    Duplicate(TapRow),
    New(Box<Found>),
}

/// What the lines of a chunk need, read in bulk so that every account is locked up front in
/// id order.
struct ChunkLoad<'a> {
    /// The lines in order of sequence number.
    steps: Vec<(&'a OfflineItem, Step)>,
    /// Replaced cards tapped before their replacement: the card whose wallet now holds the money.
    payers: HashMap<CardNo, CardNo>,
    /// Each tapped card's states over time (see [`card_histories`]).
    histories: HashMap<CardNo, Vec<(i64, CardStatus)>>,
    /// The holders behind refused but verified QR codes, by e-card id (a refused use still names them).
    refused: HashMap<EcardId, (Person, Card)>,
    /// The locked balances, by account id.
    balances: Locked,
}

async fn apply_chunk(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    items: &[OfflineItem],
) -> Result<Vec<ItemResult>> {
    let mut tx = store.write().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Transit).await?;
    let clearing = super::ledger::clearing(&t.operator_code)?;
    let mut load = load_chunk(tx.as_mut(), ctx, &t, &clearing, items).await?;
    let locked = load.balances.clone();
    let mut writes = Writes { now_ms: ctx.now_ms, ..Writes::default() };
    let mut results = Vec::with_capacity(items.len());
    for (item, step) in std::mem::take(&mut load.steps) {
        let found = match step {
            Step::Duplicate(first) => {
                let status = first.status;
                let reason = Some(duplicate_reason(status, first.reason.as_deref()));
                results.push(ItemResult { seq: item.seq, status: LineStatus::Duplicate, reason, fare_fen: None });
                continue;
            }
            Step::New(found) => found,
        };
        results.push(plan_line(ctx, &t, &clearing, item, &found, &mut load, &mut writes)?);
    }
    writes.balances = balance_changes(&locked, &load.balances);
    writes.record = Some(batch_record(ctx, &t, items, &results));
    tx.write_all(&writes).await?;
    tx.commit().await?;
    Ok(results)
}

/// Reads what the chunk's lines need: which lines are new and who is behind them, the cards
/// that pay for replaced ones, the cards' histories; then locks every wallet at once.
async fn load_chunk<'a>(
    tx: &mut (impl AuditLog + Cards + Ecards + Ledger + Transit + ?Sized),
    ctx: &Ctx,
    t: &Terminal,
    clearing: &AccountId,
    items: &'a [OfflineItem],
) -> Result<ChunkLoad<'a>> {
    let mut earlier = earlier_lines(tx, &t.id, items).await?;
    let mut steps = Vec::with_capacity(items.len());
    let mut new_items = Vec::with_capacity(items.len());
    for item in items {
        let first = match earlier.as_mut() {
            Some(known) => known.remove(&item.seq),
            None => tx.get_tap(&t.id, item.seq).await?,
        };
        match first {
            Some(first) => steps.push((item, Step::Duplicate(first))),
            None => new_items.push(item),
        }
    }
    let holders = holders_of(tx, &new_items).await?;
    let known: Vec<&(Person, Card)> = holders.values().filter_map(|f| f.as_ref().ok()).collect();
    let payers = payers_of(tx, &known).await?;
    let mut accounts: Vec<(AccountId, Option<&str>)> = vec![(clearing.clone(), None)];
    for (person, card) in &known {
        accounts.push((wallet(payer_of(&payers, &card.card_no).as_str())?, Some(person.id.as_str())));
    }
    let card_nos: Vec<String> = known.iter().map(|(_, c)| c.card_no.as_str().to_string()).collect();
    let histories = card_histories(tx, &card_nos).await?;
    let refused = refused_holders(tx, &new_items).await?;
    for item in new_items {
        let found = match (&item.presentation, LineKey::of(item)) {
            (_, Some(k)) => holders.get(&k).cloned().unwrap_or(Err(Refusal::UnknownCard)),
            (Ok(Presentation::RefusedQr { reason, .. }) | Err(reason), None) => Err(Refusal::from_code(reason)),
            (Ok(_), None) => Err(Refusal::UnknownCard),
        };
        steps.push((item, Step::New(Box::new(found))));
    }
    steps.sort_by_key(|(item, _)| item.seq);
    let balances = lock_accounts(tx, ctx, &accounts).await?;
    Ok(ChunkLoad { steps, payers, histories, refused, balances })
}

/// Decides one new line ([`judge_line`]) and adds what it writes: its tap, its use and, when
/// applied, its fare from the paying wallet to the operator's clearing account.
fn plan_line(
    ctx: &Ctx,
    t: &Terminal,
    clearing: &AccountId,
    item: &OfflineItem,
    found: &Found,
    load: &mut ChunkLoad<'_>,
    writes: &mut Writes,
) -> Result<ItemResult> {
    let line = OfflineLine { at_ms: item.at_ms, fare_fen: item.fare_fen, resident_fare_fen: item.resident_fare_fen };
    let who = found.as_ref().ok();
    // The card whose wallet pays (the tapped card, or the one its money moved to).
    let payer = who.map(|(_, card)| payer_of(&load.payers, &card.card_no).clone());
    let decision = judge_line(&line, ctx.now_ms, t.region, line_holder(found, payer.as_ref(), load)?);
    let mut row = TapRow {
        id: new_id(),
        terminal_id: t.id.clone(),
        seq: Some(item.seq),
        card_no: who.map(|(_, c)| c.card_no.as_str().to_string()),
        person_id: who.map(|(p, _)| p.id.clone()),
        fare_fen: item.fare_fen.max(0),
        at_ms: item.at_ms,
        status: TapStatus::Applied,
        reason: None,
        recorded_at_ms: ctx.now_ms,
    };
    let p = item.presentation.clone().unwrap_or(Presentation::CardNo(String::new()));
    let result = match (decision, who, payer) {
        (Ok(fare), Some((person, card)), Some(payer)) => {
            let leg = Leg {
                from: wallet(payer.as_str())?,
                to: clearing.clone(),
                amount: fare,
                kind: TransferKind::Fare,
                key: format!("tap:{}:{}", t.id, item.seq),
            };
            // No tap row for this line (checked when loading), so no transfer under its key
            // either: they commit together.
            writes.transfers.extend(plan_legs(ctx, &mut load.balances, std::slice::from_ref(&leg), &row.id)?);
            row.fare_fen = fare.value();
            writes.uses.push(use_row(ctx, t, &p, Some((person, card)), None));
            ItemResult { seq: item.seq, status: LineStatus::Applied, reason: None, fare_fen: Some(fare.value()) }
        }
        (decision, _, _) => {
            let reason = decision.err().unwrap_or(Refusal::UnknownCard);
            row.status = TapStatus::Refused;
            row.reason = Some(reason.as_str().to_string());
            let who = who.map(|(p, c)| (p, c)).or(refused_qr_holder(item, load));
            writes.uses.push(use_row(ctx, t, &p, who, Some(reason.as_str())));
            let reason = Some(reason.as_str().to_string());
            ItemResult { seq: item.seq, status: LineStatus::Refused, reason, fare_fen: None }
        }
    };
    writes.taps.push(row);
    Ok(result)
}

/// What the judgement needs of a line's holder: their region, the card, its history and the
/// balance of the wallet that pays; or why no holder was found.
fn line_holder<'a>(
    found: &'a Found,
    payer: Option<&CardNo>,
    load: &'a ChunkLoad<'_>,
) -> Result<std::result::Result<LineHolder<'a>, Refusal>> {
    match (found, payer) {
        (Ok((person, card)), Some(payer)) => Ok(Ok(LineHolder {
            insured_region: person.region,
            card,
            history: load.histories.get(&card.card_no).map(Vec::as_slice).unwrap_or(&[]),
            wallet: Fen::new(load.balances.get(&wallet(payer.as_str())?).copied().unwrap_or(0)),
        })),
        (Err(reason), _) => Ok(Err(*reason)),
        (Ok((_, card)), None) => Err(StoreError::Backend(format!("no paying card for {}", card.card_no))),
    }
}

/// A refused QR code whose signature verified still names its holder.
fn refused_qr_holder<'a>(item: &OfflineItem, load: &'a ChunkLoad<'_>) -> Option<(&'a Person, &'a Card)> {
    match &item.presentation {
        Ok(Presentation::RefusedQr { ecard_id: Some(id), .. }) => load.refused.get(id.as_str()).map(|(p, c)| (p, c)),
        _ => None,
    }
}

/// The batch's audit record: how many lines were applied and refused, for how much, which seqs.
fn batch_record(ctx: &Ctx, t: &Terminal, items: &[OfflineItem], results: &[ItemResult]) -> (NewEvent, NewAudit) {
    let applied: Vec<&ItemResult> = results.iter().filter(|r| r.status == LineStatus::Applied).collect();
    let refused = results.iter().filter(|r| r.status == LineStatus::Refused).count();
    let total: i64 = applied.iter().filter_map(|r| r.fare_fen).sum();
    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
    let batch_id = new_id();
    let subject =
        Subject { entity: "transit_batch", entity_id: &batch_id, person_id: "", region: t.region.to_string() };
    let payload = json!({ "terminal_id": t.id, "applied": applied.len(), "refused": refused, "total_fen": total,
        "seqs": seqs });
    record_rows(ctx, "transit.batch", &subject, payload)
}

/// The lines of `items` the gate already uploaded, by seq, in one read (the items are sorted
/// by seq); `None` when the gate has more taps in that range than one read returns (the
/// caller then asks line by line).
async fn earlier_lines(
    tx: &mut (impl Transit + ?Sized),
    terminal_id: &str,
    items: &[OfflineItem],
) -> Result<Option<HashMap<i64, TapRow>>> {
    let (Some(first), Some(last)) = (items.first(), items.last()) else { return Ok(Some(HashMap::new())) };
    let read_limit = 2 * BATCH_CHUNK as u32;
    let found = tx.taps_between(terminal_id, first.seq, last.seq, read_limit).await?;
    Ok((found.len() < read_limit as usize)
        .then(|| found.into_iter().filter_map(|tap| tap.seq.map(|seq| (seq, tap))).collect()))
}

/// How a line names its holder: a card number as presented, or an e-card.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LineKey {
    Card(String),
    Ecard(EcardId),
}

impl LineKey {
    /// The key of a line's holder in [`holders_of`]; `None` for a refused QR code.
    fn of(item: &OfflineItem) -> Option<LineKey> {
        match &item.presentation {
            Ok(Presentation::CardNo(no)) => Some(LineKey::Card(no.clone())),
            Ok(Presentation::Ecard { ecard_id }) => Some(LineKey::Ecard(EcardId::from_stored(ecard_id.as_str()))),
            _ => None,
        }
    }
}

/// Who is behind each card number and e-card of the lines: all card numbers in one read, each
/// e-card once.
async fn holders_of(
    tx: &mut (impl Cards + Ecards + ?Sized),
    items: &[&OfflineItem],
) -> Result<HashMap<LineKey, Found>> {
    let mut out: HashMap<LineKey, Found> = HashMap::new();
    // (as presented, as parsed)
    let mut numbers: Vec<(String, CardNo)> = Vec::new();
    for item in items {
        match &item.presentation {
            Ok(Presentation::CardNo(no)) => match CardNo::parse(no) {
                Ok(parsed) => numbers.push((no.clone(), parsed)),
                Err(_) => {
                    out.insert(LineKey::Card(no.clone()), Err(Refusal::UnknownCard));
                }
            },
            Ok(p @ Presentation::Ecard { ecard_id }) => {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    out.entry(LineKey::Ecard(EcardId::from_stored(ecard_id.as_str())))
                {
                    slot.insert(lookup(tx, p).await?);
                }
            }
            _ => {}
        }
    }
    let mut parsed: Vec<String> = numbers.iter().map(|(_, p)| p.as_str().to_string()).collect();
    parsed.sort();
    parsed.dedup();
    let mut cards: HashMap<CardNo, (Person, Card)> = HashMap::with_capacity(parsed.len());
    for chunk in parsed.chunks(MAX_CARDS_PER_READ) {
        for (card, person) in tx.cards_with_persons(chunk).await? {
            cards.insert(card.card_no.clone(), (person, card));
        }
    }
    for (raw, parsed) in numbers {
        out.insert(LineKey::Card(raw), cards.get(&parsed).cloned().ok_or(Refusal::UnknownCard));
    }
    Ok(out)
}

/// For each replaced card among `known`, the card whose wallet pays its taps now (see
/// [`paying_card`]): one read of the holder's cards per replaced card.
async fn payers_of(tx: &mut (impl Cards + ?Sized), known: &[&(Person, Card)]) -> Result<HashMap<CardNo, CardNo>> {
    let mut payers = HashMap::new();
    for (person, card) in known {
        if card.status == CardStatus::Replaced && !payers.contains_key(&card.card_no) {
            let live = tx.cards_of_person(&person.id).await?.into_iter().find(|c| c.status.is_live());
            payers.insert(card.card_no.clone(), paying_card(card, live.as_ref()).card_no.clone());
        }
    }
    Ok(payers)
}

/// The holders behind the refused but verified QR codes of the lines, by e-card id.
async fn refused_holders(
    tx: &mut (impl Cards + Ecards + ?Sized),
    items: &[&OfflineItem],
) -> Result<HashMap<EcardId, (Person, Card)>> {
    let mut out = HashMap::new();
    for item in items {
        if let Ok(p @ Presentation::RefusedQr { ecard_id: Some(id), .. }) = &item.presentation
            && !out.contains_key(id.as_str())
            && let Some(found) = refused_holder(tx, p).await?
        {
            out.insert(EcardId::from_stored(id.as_str()), found);
        }
    }
    Ok(out)
}

/// The card whose wallet pays for a tap of `card_no` (see [`paying_card`]).
fn payer_of<'a>(payers: &'a HashMap<CardNo, CardNo>, card_no: &'a CardNo) -> &'a CardNo {
    payers.get(card_no).unwrap_or(card_no)
}

/// Most state changes of one card read to judge offline transactions.
const MAX_CARD_HISTORY: u32 = 1000;

/// Each card's states over time, oldest first, from its audit records: the `to` status of
/// each change (`status` for imported cards); production and hand-over carry none. One read
/// for all cards; card by card when that read is full.
async fn card_histories(
    tx: &mut (impl AuditLog + ?Sized),
    card_nos: &[String],
) -> Result<HashMap<CardNo, Vec<(i64, CardStatus)>>> {
    let mut out: HashMap<CardNo, Vec<(i64, CardStatus)>> = HashMap::new();
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
            let Ok(card_no) = CardNo::parse(&r.entity_id) else { continue };
            out.entry(card_no).or_default().push((r.at_ms, status));
        }
    }
    Ok(out)
}
