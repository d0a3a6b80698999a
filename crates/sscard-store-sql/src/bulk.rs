//! Writing many rows in few calls: multi-row `INSERT ... VALUES (...), (...)` for every table
//! of a [`Writes`], all of them in one call (one round trip for everything a settlement or a
//! tap writes): on PostgreSQL one statement of data-modifying CTEs, on SQLite the statements
//! in one text.

use super::Dialect;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};
use sscard_store::model::{NewAudit, NewEvent};
use sscard_store::onecard::Writes;
use sscard_store::{Result, StoreError};

/// Most parameters in one statement: under PostgreSQL's 65,535 and SQLite's 32,766.
const MAX_PARAMS: usize = 30_000;
/// Statements of more rows than this are not kept prepared: a single operation writes fewer
/// (and its shapes repeat); a section of more rows is cut in pieces of fixed sizes ([`run_large`]).
const MAX_PREPARED_ROWS: usize = 64;

/// One bound value.
#[derive(Debug, Clone)]
pub(super) enum V<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    /// A value made for the statement (a JSON text, a sealed column).
    Owned(String),
    OptOwned(Option<String>),
}

/// The rows of one table: `head` is what precedes `VALUES` (`INSERT INTO t (c1, ..., cn)`, or
/// an `UPDATE ... FROM (`), `tail` what follows the values (`ON CONFLICT ...`), `values` the
/// rows one after the other.
pub(super) struct Section<'a> {
    pub head: String,
    pub cols: usize,
    pub tail: &'static str,
    pub values: Vec<V<'a>>,
    /// Which unique key a duplicate of this table stands for.
    pub what: &'static str,
}

impl<'a> Section<'a> {
    pub fn new(head: impl Into<String>, cols: usize, tail: &'static str, what: &'static str) -> Self {
        Self { head: head.into(), cols, tail, values: Vec::new(), what }
    }
    pub fn row(&mut self, values: impl IntoIterator<Item = V<'a>>) {
        let before = self.values.len();
        self.values.extend(values);
        debug_assert_eq!(self.values.len() - before, self.cols, "{}: a row of the wrong width", self.head);
    }
    fn rows(&self) -> usize {
        self.values.len() / self.cols
    }
    /// `head VALUES ($n, ...), (...) tail`, numbering parameters from `first` (SQLite: `?`
    /// in order, as it looks every `$n` up among the names before it, which is quadratic).
    fn sql(&self, first: usize, dialect: Dialect) -> String {
        let mut sql = String::with_capacity(self.head.len() + self.values.len() * 6 + self.tail.len());
        sql.push_str(&self.head);
        sql.push_str(" VALUES ");
        for r in 0..self.rows() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..self.cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                match dialect {
                    Dialect::Postgres => {
                        sql.push('$');
                        sql.push_str(&(first + r * self.cols + c).to_string());
                    }
                    Dialect::Sqlite => sql.push('?'),
                }
            }
            sql.push(')');
        }
        sql.push_str(self.tail);
        sql
    }
}

/// Binds the values in order, moving each value made for the statement into it (the `Any`
/// driver copies borrowed text, but takes an owned one as it is).
pub(super) fn bind<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    values: impl IntoIterator<Item = V<'q>>,
) -> Query<'q, Any, AnyArguments> {
    for v in values {
        q = match v {
            V::Text(t) => q.bind(t),
            V::OptText(t) => q.bind(t),
            V::Int(i) => q.bind(i),
            V::OptInt(i) => q.bind(i),
            V::Owned(t) => q.bind(t),
            V::OptOwned(t) => q.bind(t),
        };
    }
    q
}

/// Runs the sections in order. Sections of at most [`MAX_PREPARED_ROWS`] rows (what one
/// operation writes) go together, in as few calls as the parameter limit allows (see
/// [`run_statement`]); a larger one (a chunk of an offline batch) goes in pieces of a few fixed
/// sizes ([`run_large`]).
pub(super) async fn run(conn: &mut sqlx::AnyConnection, dialect: Dialect, sections: Vec<Section<'_>>) -> Result<()> {
    let mut small: Vec<Section<'_>> = Vec::new();
    for s in sections.into_iter().filter(|s| !s.values.is_empty()) {
        if s.rows() <= MAX_PREPARED_ROWS {
            small.push(s);
        } else {
            run_small(conn, dialect, std::mem::take(&mut small)).await?;
            run_large(conn, dialect, s).await?;
        }
    }
    run_small(conn, dialect, small).await
}

/// Small sections, as many in one call as [`MAX_PARAMS`] allows.
async fn run_small(conn: &mut sqlx::AnyConnection, dialect: Dialect, sections: Vec<Section<'_>>) -> Result<()> {
    let mut call: Vec<Section<'_>> = Vec::new();
    let mut params = 0;
    for s in sections {
        if !call.is_empty() && params + s.values.len() > MAX_PARAMS {
            run_call(conn, dialect, std::mem::take(&mut call)).await?;
            params = 0;
        }
        params += s.values.len();
        call.push(s);
    }
    if !call.is_empty() {
        run_call(conn, dialect, call).await?;
    }
    Ok(())
}

/// One call of small sections, kept prepared when small: a single operation's shapes repeat.
async fn run_call(conn: &mut sqlx::AnyConnection, dialect: Dialect, call: Vec<Section<'_>>) -> Result<()> {
    let rows: usize = call.iter().map(Section::rows).sum();
    run_statement(conn, dialect, call, rows <= MAX_PREPARED_ROWS).await
}

/// Most rows of one piece of a large section.
const PIECE_ROWS: usize = 256;

/// A large section in pieces of [`PIECE_ROWS`] rows (fewer when its columns would pass the
/// parameter limit), the rest in pieces of decreasing powers of two: so every piece's text is
/// one of a few per table, which the connection prepares once and reuses, where one statement
/// of thousands of rows would be parsed and planned again for each chunk (on SQLite that
/// compiling cost more than the writing).
async fn run_large(conn: &mut sqlx::AnyConnection, dialect: Dialect, s: Section<'_>) -> Result<()> {
    let most = PIECE_ROWS.min(MAX_PARAMS / s.cols.max(1)).max(1);
    let full = 1usize << most.ilog2();
    let Section { head, cols, tail, values, what } = s;
    let mut left = values.len() / cols.max(1);
    // Taken from the front through one iterator: splitting the vector at each piece moved
    // the rest of it every time (quadratic in the section's rows).
    let mut values = values.into_iter();
    while left > 0 {
        let n = if left >= full { full } else { 1usize << left.ilog2() };
        let piece = Section { head: head.clone(), cols, tail, values: values.by_ref().take(n * cols).collect(), what };
        left -= n;
        run_statement(conn, dialect, vec![piece], true).await?;
    }
    Ok(())
}

/// One call: on PostgreSQL one statement, the last piece its main statement and the ones before
/// it CTEs; on SQLite (no data-modifying CTEs) the statements one after the other in one text,
/// which the driver runs in order, binding each its share of the parameters.
async fn run_statement(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    mut pieces: Vec<Section<'_>>,
    prepared: bool,
) -> Result<()> {
    let mut sql = String::new();
    let mut next = 1;
    let last = pieces.len() - 1;
    for (i, p) in pieces.iter().enumerate() {
        let body = p.sql(next, dialect);
        next += p.values.len();
        if dialect == Dialect::Sqlite {
            sql.push_str(&body);
            sql.push_str(if i == last { "" } else { "; " });
        } else if i == last {
            sql.push_str(&body);
        } else {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ({body})"));
            if i + 1 == last {
                sql.push(' ');
            }
        }
    }
    // What a duplicate names, kept before the values are moved into the query.
    let names: Vec<(String, &'static str)> = pieces.iter().map(|p| (table_of(&p.head).to_string(), p.what)).collect();
    let values = pieces.iter_mut().flat_map(|p| std::mem::take(&mut p.values));
    let q = bind(sqlx::query(AssertSqlSafe(sql)), values).persistent(prepared);
    q.execute(conn).await.map_err(|e| match crate::error::store_error(e) {
        StoreError::Duplicate { detail, .. } => {
            // Name the table whose unique key was taken, when the message tells.
            let what = names.iter().find(|(table, _)| detail.contains(table.as_str())).map_or("row", |(_, w)| *w);
            StoreError::Duplicate { what, detail }
        }
        other => other,
    })?;
    Ok(())
}

fn table_of(head: &str) -> &str {
    let rest = head.strip_prefix("INSERT INTO ").or_else(|| head.strip_prefix("UPDATE ")).unwrap_or(head);
    rest.split([' ', '(']).next().unwrap_or(rest)
}

/// The sections of a [`Writes`], in the order its doc gives.
pub(super) fn sections<'a>(w: &'a Writes, dialect: Dialect) -> Vec<Section<'a>> {
    let [holders, orgs, slots] = balances(w, dialect);
    let [events, audits] = record(w);
    vec![holders, orgs, slots, transfers(w), taps(w), settlement(w), medical_year(w), uses(w), events, audits]
}

/// The balance changes: holder accounts, organisation accounts and their balance slots.
///
/// Holder accounts exist (they were locked): their change is an update of their row.
/// Organisation accounts are created when missing (without touching an existing row) and
/// their change goes into one of their balance slots (see migration 0005), so that no
/// organisation row is a queue.
fn balances(w: &Writes, dialect: Dialect) -> [Section<'_>; 3] {
    let mut holders = Section::new(
        "UPDATE accounts SET balance = accounts.balance + v.column2 FROM (",
        2,
        ") AS v WHERE accounts.id = v.column1",
        "account",
    );
    let mut orgs = Section::new(
        "INSERT INTO accounts (id, kind, owner, person_id, balance, may_go_negative, created_at_ms)",
        7,
        " ON CONFLICT (id) DO NOTHING",
        "account",
    );
    let mut slots = Section::new(
        format!(
            "INSERT INTO account_slots (account_id, balance, slot) SELECT v.column1, v.column2, {} FROM (",
            dialect.balance_slot()
        ),
        2,
        ") AS v WHERE true ON CONFLICT (account_id, slot) DO UPDATE SET balance = account_slots.balance + excluded.balance",
        "balance slot",
    );
    let mut changes: Vec<&sscard_store::onecard::BalanceChange> = w.balances.iter().collect();
    changes.sort_by(|a, b| a.id.cmp(&b.id));
    for b in changes {
        if b.kind.is_holder() {
            holders.row([V::Text(&b.id), V::Int(b.delta_fen)]);
            continue;
        }
        orgs.row([
            V::Text(&b.id),
            V::Text(b.kind.as_str()),
            V::Text(&b.owner),
            V::OptText(b.person_id.as_deref()),
            V::Int(0),
            V::Int(i64::from(b.kind.may_go_negative())),
            V::Int(w.now_ms),
        ]);
        slots.row([V::Text(&b.id), V::Int(b.delta_fen)]);
    }
    [holders, orgs, slots]
}

fn transfers(w: &Writes) -> Section<'_> {
    let mut transfers = Section::new(
        "INSERT INTO transfers (id, idem_key, from_account, to_account, amount_fen, kind, ref_id, at_ms)",
        8,
        "",
        "transfer idempotency key",
    );
    for t in &w.transfers {
        transfers.row([
            V::Text(&t.id),
            V::Text(&t.idem_key),
            V::Text(&t.from_account),
            V::Text(&t.to_account),
            V::Int(t.amount_fen),
            V::Text(&t.kind),
            V::OptText(t.ref_id.as_deref()),
            V::Int(t.at_ms),
        ]);
    }
    transfers
}

fn taps(w: &Writes) -> Section<'_> {
    let mut taps = Section::new(
        "INSERT INTO transit_taps (id, terminal_id, seq, card_no, person_id, fare_fen, at_ms, status, reason, recorded_at_ms)",
        10,
        "",
        "transit transaction with this sequence number",
    );
    for t in &w.taps {
        taps.row([
            V::Text(&t.id),
            V::Text(&t.terminal_id),
            V::OptInt(t.seq),
            V::OptText(t.card_no.as_deref()),
            V::OptText(t.person_id.as_deref()),
            V::Int(t.fare_fen),
            V::Int(t.at_ms),
            V::Text(t.status.as_str()),
            V::OptText(t.reason.as_deref()),
            V::Int(t.recorded_at_ms),
        ]);
    }
    taps
}

fn settlement(w: &Writes) -> Section<'_> {
    let mut settlements = Section::new(
        "INSERT INTO settlements (id, operator_code, terminal_id, bill_id, person_id, card_no, insured_region, locality, year, bill_fen, pool_fen, account_fen, self_pay_fen, deductible_applied_fen, ratio_bp, at_ms, refunded_at_ms)",
        17,
        "",
        "settlement of this bill",
    );
    if let Some(s) = &w.settlement {
        settlements.row([
            V::Text(&s.id),
            V::Text(&s.operator_code),
            V::Text(&s.terminal_id),
            V::Text(&s.bill_id),
            V::Text(&s.person_id),
            V::Text(&s.card_no),
            V::Text(&s.insured_region),
            V::Text(&s.locality),
            V::Int(s.year),
            V::Int(s.bill_fen),
            V::Int(s.pool_fen),
            V::Int(s.account_fen),
            V::Int(s.self_pay_fen),
            V::Int(s.deductible_applied_fen),
            V::Int(s.ratio_bp),
            V::Int(s.at_ms),
            V::OptInt(s.refunded_at_ms),
        ]);
    }
    settlements
}

fn medical_year(w: &Writes) -> Section<'_> {
    let mut years = Section::new(
        "INSERT INTO medical_years (person_id, year, deductible_used_fen, pool_paid_fen)",
        4,
        " ON CONFLICT (person_id, year) DO UPDATE SET deductible_used_fen = excluded.deductible_used_fen, pool_paid_fen = excluded.pool_paid_fen",
        "policy year",
    );
    if let Some(y) = &w.medical_year {
        years.row([
            V::Text(&y.person_id),
            V::Int(y.year),
            V::Int(y.ytd.deductible_used_fen),
            V::Int(y.ytd.pool_paid_fen),
        ]);
    }
    years
}

fn uses(w: &Writes) -> Section<'_> {
    let mut uses = Section::new(
        "INSERT INTO card_uses (id, at_ms, scenario, terminal_id, operator_code, person_id, card_no, presented, result, reason, region)",
        11,
        "",
        "card use",
    );
    for u in &w.uses {
        uses.row([
            V::Text(&u.id),
            V::Int(u.at_ms),
            V::Text(&u.scenario),
            V::Text(&u.terminal_id),
            V::Text(&u.operator_code),
            V::OptText(u.person_id.as_deref()),
            V::OptText(u.card_no.as_deref()),
            V::Text(&u.presented),
            V::Text(u.result.as_str()),
            V::OptText(u.reason.as_deref()),
            V::Text(&u.region),
        ]);
    }
    uses
}

/// The event and the audit record of the operation.
fn record(w: &Writes) -> [Section<'_>; 2] {
    records(w.record.as_slice())
}

/// Events and audit records, one row each, in order.
pub(super) fn records(records: &[(NewEvent, NewAudit)]) -> [Section<'_>; 2] {
    let mut events =
        Section::new("INSERT INTO events (at_ms, kind, entity, entity_id, person_id, region, payload)", 7, "", "event");
    let mut audits =
        Section::new("INSERT INTO audit_log (at_ms, actor, action, entity, entity_id, detail)", 6, "", "audit record");
    for (e, a) in records {
        events.row([
            V::Int(e.at_ms),
            V::Text(&e.kind),
            V::Text(e.entity),
            V::Text(&e.entity_id),
            V::Text(&e.person_id),
            V::Text(&e.region),
            V::Owned(e.payload.to_string()),
        ]);
        audits.row([
            V::Int(a.at_ms),
            V::Text(&a.actor),
            V::Text(&a.action),
            V::Text(a.entity),
            V::Text(&a.entity_id),
            V::Owned(a.detail.to_string()),
        ]);
    }
    [events, audits]
}
