//! [`OnecardTx`] over one sqlx transaction: the SQL of terminals, the ledger, settlements,
//! taps, loans, parks and usage records. Same text on SQLite and PostgreSQL.

use super::rows::{int, opt_int, opt_text, text};
use super::tx::SqlTx;
use crate::Db;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sscard_domain::card::Card;
use sscard_domain::ids::RegionCode;
use sscard_domain::ledger::AccountKind;
use sscard_domain::library::LibraryPolicy;
use sscard_domain::medical::{MedicalPolicy, YearToDate};
use sscard_domain::park::ParkRule;
use sscard_domain::person::Person;
use sscard_domain::terminal::{Operator, OperatorKind, Scenario, Scope, Terminal, UseResult};
use sscard_domain::transit::TapStatus;
use sscard_store::model::AuditRow;
use sscard_store::onecard::*;
use sscard_store::ports;
use sscard_store::{Result, StoreError};

const TERMINAL_COLS: &str = "id, operator_code, scenario, region, scope, disabled, created_at_ms";
const SETTLEMENT_COLS: &str = "id, operator_code, terminal_id, bill_id, person_id, card_no, insured_region, locality, year, bill_fen, pool_fen, account_fen, self_pay_fen, deductible_applied_fen, ratio_bp, at_ms, refunded_at_ms";
const TAP_COLS: &str = "id, terminal_id, seq, card_no, person_id, fare_fen, at_ms, status, reason, recorded_at_ms";
const LOAN_COLS: &str = "id, operator_code, item_id, person_id, card_no, deployment, ecard_id, terminal_id, borrowed_at_ms, due_at_ms, returned_at_ms, returned_terminal_id";
const USE_COLS: &str = "id, at_ms, scenario, terminal_id, operator_code, person_id, card_no, presented, result, reason, region, deployment, ecard_id";
/// An account's columns with its balance: its row's plus its slots' (migration 0005).
const ACCOUNT_COLS: &str = "a.id, a.kind, a.owner, a.person_id, a.balance + COALESCE((SELECT CAST(SUM(s.balance) AS BIGINT) FROM account_slots s WHERE s.account_id = a.id), 0) AS balance";
const TRANSFER_COLS: &str = "id, idem_key, from_account, to_account, amount_fen, kind, ref_id, at_ms";

fn corrupt(col: &str, v: &str) -> StoreError {
    StoreError::corrupt(format!("column {col} holds {v:?}"))
}
fn region(row: &AnyRow, col: &str) -> Result<RegionCode> {
    let t = text(row, col)?;
    RegionCode::parse(&t).map_err(|_| corrupt(col, &t))
}
fn named<T>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    let t = text(row, col)?;
    parse(&t).ok_or_else(|| corrupt(col, &t))
}
fn limit(n: u32, max: u32) -> i64 {
    i64::from(n.clamp(1, max))
}
fn dup(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match crate::error::store_error(e) {
        StoreError::Duplicate { detail, .. } => StoreError::Duplicate { what, detail },
        other => other,
    }
}

fn terminal(row: &AnyRow) -> Result<Terminal> {
    terminal_p(row, "")
}
fn terminal_p(row: &AnyRow, x: &str) -> Result<Terminal> {
    let scope = text(row, &format!("{x}scope"))?;
    Ok(Terminal {
        id: text(row, &format!("{x}id"))?,
        operator_code: text(row, &format!("{x}operator_code"))?,
        scenario: named(row, &format!("{x}scenario"), Scenario::parse)?,
        region: region(row, &format!("{x}region"))?,
        scope: Scope::from_stored(&scope).map_err(|_| corrupt("scope", &scope))?,
        disabled: int(row, &format!("{x}disabled"))? != 0,
        created_at_ms: int(row, &format!("{x}created_at_ms"))?,
    })
}
fn account(row: &AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: text(row, "id")?,
        kind: named(row, "kind", AccountKind::parse)?,
        owner: text(row, "owner")?,
        person_id: opt_text(row, "person_id")?,
        balance_fen: int(row, "balance")?,
    })
}
fn transfer(row: &AnyRow) -> Result<TransferRow> {
    Ok(TransferRow {
        id: text(row, "id")?,
        idem_key: text(row, "idem_key")?,
        from_account: text(row, "from_account")?,
        to_account: text(row, "to_account")?,
        amount_fen: int(row, "amount_fen")?,
        kind: text(row, "kind")?,
        ref_id: opt_text(row, "ref_id")?,
        at_ms: int(row, "at_ms")?,
    })
}
fn settlement(row: &AnyRow) -> Result<SettlementRow> {
    settlement_p(row, "")
}
fn settlement_p(row: &AnyRow, x: &str) -> Result<SettlementRow> {
    Ok(SettlementRow {
        id: text(row, &format!("{x}id"))?,
        operator_code: text(row, &format!("{x}operator_code"))?,
        terminal_id: text(row, &format!("{x}terminal_id"))?,
        bill_id: text(row, &format!("{x}bill_id"))?,
        person_id: text(row, &format!("{x}person_id"))?,
        card_no: text(row, &format!("{x}card_no"))?,
        insured_region: text(row, &format!("{x}insured_region"))?,
        locality: text(row, &format!("{x}locality"))?,
        year: int(row, &format!("{x}year"))?,
        bill_fen: int(row, &format!("{x}bill_fen"))?,
        pool_fen: int(row, &format!("{x}pool_fen"))?,
        account_fen: int(row, &format!("{x}account_fen"))?,
        self_pay_fen: int(row, &format!("{x}self_pay_fen"))?,
        deductible_applied_fen: int(row, &format!("{x}deductible_applied_fen"))?,
        ratio_bp: int(row, &format!("{x}ratio_bp"))?,
        at_ms: int(row, &format!("{x}at_ms"))?,
        refunded_at_ms: opt_int(row, &format!("{x}refunded_at_ms"))?,
    })
}
fn tap(row: &AnyRow) -> Result<TapRow> {
    Ok(TapRow {
        id: text(row, "id")?,
        terminal_id: text(row, "terminal_id")?,
        seq: opt_int(row, "seq")?,
        card_no: opt_text(row, "card_no")?,
        person_id: opt_text(row, "person_id")?,
        fare_fen: int(row, "fare_fen")?,
        at_ms: int(row, "at_ms")?,
        status: named(row, "status", TapStatus::parse)?,
        reason: opt_text(row, "reason")?,
        recorded_at_ms: int(row, "recorded_at_ms")?,
    })
}
fn loan(row: &AnyRow) -> Result<LoanRow> {
    Ok(LoanRow {
        id: text(row, "id")?,
        operator_code: text(row, "operator_code")?,
        item_id: text(row, "item_id")?,
        person_id: opt_text(row, "person_id")?,
        card_no: opt_text(row, "card_no")?,
        deployment: opt_text(row, "deployment")?,
        ecard_id: opt_text(row, "ecard_id")?,
        terminal_id: text(row, "terminal_id")?,
        borrowed_at_ms: int(row, "borrowed_at_ms")?,
        due_at_ms: int(row, "due_at_ms")?,
        returned_at_ms: opt_int(row, "returned_at_ms")?,
        returned_terminal_id: opt_text(row, "returned_terminal_id")?,
    })
}
fn use_row(row: &AnyRow) -> Result<UseRow> {
    Ok(UseRow {
        id: text(row, "id")?,
        at_ms: int(row, "at_ms")?,
        scenario: text(row, "scenario")?,
        terminal_id: text(row, "terminal_id")?,
        operator_code: text(row, "operator_code")?,
        person_id: opt_text(row, "person_id")?,
        card_no: opt_text(row, "card_no")?,
        presented: text(row, "presented")?,
        result: named(row, "result", UseResult::parse)?,
        reason: opt_text(row, "reason")?,
        region: text(row, "region")?,
        deployment: opt_text(row, "deployment")?,
        ecard_id: opt_text(row, "ecard_id")?,
    })
}
/// `$first, $first+1, ...` (`n` of them); on SQLite `?, ?, ...` (it looks each `$n` up among
/// the names before it, which is quadratic), so a statement with such a list must use `?` for
/// all its parameters there, in order.
fn placeholders(dialect: super::Dialect, first: usize, n: usize) -> String {
    let one = |i: usize| match dialect {
        super::Dialect::Postgres => format!("${i}"),
        super::Dialect::Sqlite => "?".to_string(),
    };
    (first..first + n).map(one).collect::<Vec<_>>().join(", ")
}

/// A card joined with its holder: card columns as they are, person columns as `p_*`.
fn card_person_select() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let person: Vec<String> = super::tx::PERSON_COLS.split(", ").map(|c| format!("p.{c} AS p_{c}")).collect();
        let card: Vec<String> = super::tx::CARD_COLS.split(", ").map(|c| format!("c.{c}")).collect();
        format!("SELECT {}, {} FROM cards c JOIN persons p ON p.id = c.person_id", card.join(", "), person.join(", "))
    })
}
/// `cols` of `table`, each as `prefix` + its name.
fn prefixed(table: &str, cols: &str, prefix: &str) -> String {
    cols.split(", ").map(|c| format!("{table}.{c} AS {prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// The columns of a terminal (`t_*`), a card and its holder (`p_*`).
fn terminal_card_cols() -> String {
    let card: Vec<String> = super::tx::CARD_COLS.split(", ").map(|c| format!("c.{c}")).collect();
    format!(
        "{}, {}, {}",
        prefixed("t", TERMINAL_COLS, "t_"),
        card.join(", "),
        prefixed("p", super::tx::PERSON_COLS, "p_")
    )
}

/// The terminal `$1` and the card `$2` with its holder, when both exist.
fn terminal_card_locked_select() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT {} FROM terminals t JOIN cards c ON c.card_no = $2 JOIN persons p ON p.id = c.person_id \
             WHERE t.id = $1",
            terminal_card_cols()
        )
    })
}

/// One row whatever is found: the terminal `$1` and the card `$2` with its holder.
fn terminal_card_select() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT {} FROM (SELECT 1 AS one) x LEFT JOIN terminals t ON t.id = $1 \
             LEFT JOIN cards c ON c.card_no = $2 LEFT JOIN persons p ON p.id = c.person_id",
            terminal_card_cols()
        )
    })
}

/// One row whatever is found: the settlement of bill `$2` at operator `$1` (`s_*`), the policy
/// year `$4` of person `$3` (`y_*`), the policies of regions `$5` (`mp_*`) and `$6` (`pp_*`),
/// the holder accounts `$7` (`a1_*`) and `$8` (`a2_*`; holder accounts have no slots).
fn settlement_context_select() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        const POLICY_COLS: &str =
            "region, deductible_fen, ratio_local_bp, ratio_in_province_bp, ratio_cross_province_bp, annual_cap_fen";
        format!(
            "SELECT {}, y.deductible_used_fen AS y_deductible_used_fen, y.pool_paid_fen AS y_pool_paid_fen, {}, {}, \
             a1.id AS a1_id, a1.balance AS a1_balance, a2.id AS a2_id, a2.balance AS a2_balance \
             FROM (SELECT 1 AS one) x \
             LEFT JOIN settlements s ON s.operator_code = $1 AND s.bill_id = $2 \
             LEFT JOIN medical_years y ON y.person_id = $3 AND y.year = $4 \
             LEFT JOIN medical_policies mp ON mp.region = $5 \
             LEFT JOIN medical_policies pp ON pp.region = $6 \
             LEFT JOIN accounts a1 ON a1.id = $7 LEFT JOIN accounts a2 ON a2.id = $8",
            prefixed("s", SETTLEMENT_COLS, "s_"),
            prefixed("mp", POLICY_COLS, "mp_"),
            prefixed("pp", POLICY_COLS, "pp_"),
        )
    })
}

fn card_person(row: &AnyRow, vault: &crate::vault::Vault) -> Result<(Card, Person)> {
    Ok((super::rows::card(row, vault)?, super::rows::person_prefixed(row, "p_", vault)?))
}

fn medical_policy_p(row: &AnyRow, x: &str) -> Result<MedicalPolicy> {
    let bp = |col: &str| -> Result<u32> {
        let v = int(row, col)?;
        u32::try_from(v).map_err(|_| corrupt(col, &v.to_string()))
    };
    Ok(MedicalPolicy {
        region: region(row, &format!("{x}region"))?,
        deductible_fen: int(row, &format!("{x}deductible_fen"))?,
        ratio_local_bp: bp(&format!("{x}ratio_local_bp"))?,
        ratio_in_province_bp: bp(&format!("{x}ratio_in_province_bp"))?,
        ratio_cross_province_bp: bp(&format!("{x}ratio_cross_province_bp"))?,
        annual_cap_fen: int(row, &format!("{x}annual_cap_fen"))?,
    })
}

fn all<T>(rows: Vec<AnyRow>, map: fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(map).collect()
}

#[async_trait]
impl ports::Terminals for SqlTx {
    async fn insert_operator(&mut self, op: &Operator, now_ms: i64) -> Result<()> {
        sqlx::query("INSERT INTO operators (code, name, kind, region, created_at_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(op.code.as_str())
            .bind(op.name.as_str())
            .bind(op.kind.as_str())
            .bind(op.region.to_string())
            .bind(now_ms)
            .execute(self.conn())
            .await
            .map_err(dup("operator"))?;
        Ok(())
    }

    async fn get_operator(&mut self, code: &str) -> Result<Option<Operator>> {
        let row = sqlx::query("SELECT code, name, kind, region FROM operators WHERE code = $1")
            .bind(code)
            .fetch_optional(self.conn())
            .await
            .db()?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Operator {
            code: text(&row, "code")?,
            name: text(&row, "name")?,
            kind: named(&row, "kind", OperatorKind::parse)?,
            region: region(&row, "region")?,
        }))
    }

    async fn insert_terminal(&mut self, t: &Terminal, secret_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO terminals (id, operator_code, scenario, region, scope, secret_hash, disabled, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(t.id.as_str())
            .bind(t.operator_code.as_str())
            .bind(t.scenario.as_str())
            .bind(t.region.to_string())
            .bind(t.scope.to_stored())
            .bind(secret_hash)
            .bind(i64::from(t.disabled))
            .bind(t.created_at_ms)
            .execute(self.conn())
            .await
            .map_err(dup("terminal"))?;
        Ok(())
    }

    async fn get_terminal(&mut self, id: &str) -> Result<Option<Terminal>> {
        let sql = format!("SELECT {TERMINAL_COLS} FROM terminals WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(terminal).transpose()
    }

    async fn terminal_by_secret(&mut self, secret_hash: &str) -> Result<Option<Terminal>> {
        let sql = format!("SELECT {TERMINAL_COLS} FROM terminals WHERE secret_hash = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(secret_hash).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(terminal).transpose()
    }

    async fn set_terminal_secret(&mut self, id: &str, secret_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE terminals SET secret_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(secret_hash)
            .execute(self.conn())
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("terminal", id));
        }
        Ok(())
    }

    async fn set_terminal_disabled(&mut self, id: &str, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE terminals SET disabled = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(disabled))
            .execute(self.conn())
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("terminal", id));
        }
        Ok(())
    }

    async fn list_terminals(&mut self, n: u32) -> Result<Vec<Terminal>> {
        let sql = format!("SELECT {TERMINAL_COLS} FROM terminals ORDER BY id LIMIT $1");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(limit(n, 1000)).fetch_all(self.conn()).await.db()?;
        all(found, terminal)
    }

    async fn terminal_and_card(
        &mut self,
        terminal_id: &str,
        card_no: &str,
        lock_person: bool,
    ) -> Result<(Option<Terminal>, Option<(Card, Person)>)> {
        if lock_person && self.dialect() == super::Dialect::Postgres {
            // A row lock needs the inner join; when either is missing, the plain read below
            // tells which (and locks nothing: the use is refused).
            let sql = format!("{} FOR UPDATE OF p", terminal_card_locked_select());
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(terminal_id)
                .bind(card_no)
                .fetch_optional(self.conn())
                .await
                .db()?;
            if let Some(row) = row {
                return Ok((Some(terminal_p(&row, "t_")?), Some(card_person(&row, self.vault())?)));
            }
        }
        let row = sqlx::query(AssertSqlSafe(terminal_card_select()))
            .bind(terminal_id)
            .bind(card_no)
            .fetch_one(self.conn())
            .await
            .db()?;
        let terminal = if opt_text(&row, "t_id")?.is_some() { Some(terminal_p(&row, "t_")?) } else { None };
        let card = if opt_text(&row, "card_no")?.is_some() { Some(card_person(&row, self.vault())?) } else { None };
        Ok((terminal, card))
    }
}

#[async_trait]
impl ports::Ledger for SqlTx {
    async fn ensure_account(
        &mut self,
        id: &str,
        kind: AccountKind,
        owner: &str,
        person_id: Option<&str>,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO accounts (id, kind, owner, person_id, balance, may_go_negative, created_at_ms) VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(kind.as_str())
            .bind(owner)
            .bind(person_id)
            .bind(i64::from(kind.may_go_negative()))
            .bind(now_ms)
            .execute(self.conn())
            .await.db()?;
        Ok(())
    }

    async fn ensure_accounts(
        &mut self,
        accounts: &[(String, AccountKind, String, Option<String>)],
        now_ms: i64,
    ) -> Result<()> {
        let mut s = super::bulk::Section::new(
            "INSERT INTO accounts (id, kind, owner, person_id, balance, may_go_negative, created_at_ms)",
            7,
            " ON CONFLICT (id) DO NOTHING",
            "account",
        );
        for (id, kind, owner, person_id) in accounts {
            s.row([
                super::bulk::V::Text(id),
                super::bulk::V::Text(kind.as_str()),
                super::bulk::V::Text(owner),
                super::bulk::V::OptText(person_id.as_deref()),
                super::bulk::V::Int(0),
                super::bulk::V::Int(i64::from(kind.may_go_negative())),
                super::bulk::V::Int(now_ms),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    async fn lock_accounts_by_id(&mut self, ids: &[String]) -> Result<Vec<AccountRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let lock = self.dialect().for_update();
        // Holder accounts have no slots: their row is their balance.
        let sql = format!(
            "SELECT id, kind, owner, person_id, balance FROM accounts WHERE id IN ({}) ORDER BY id{lock}",
            placeholders(self.dialect(), 1, ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(ids.len() <= 8);
        for id in ids {
            q = q.bind(id.as_str());
        }
        all(q.fetch_all(self.conn()).await.db()?, account)
    }

    async fn write_all(&mut self, w: &Writes) -> Result<()> {
        if let Some((e, _)) = &w.record {
            self.touch(&e.person_id);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, super::bulk::sections(w, dialect)).await
    }

    async fn get_account(&mut self, id: &str, lock: bool) -> Result<Option<AccountRow>> {
        let lock = if lock { self.dialect().for_update() } else { "" };
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.id = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(account).transpose()
    }

    async fn accounts_of_person(&mut self, person_id: &str) -> Result<Vec<AccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.person_id = $1 ORDER BY a.id LIMIT 100");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(person_id).fetch_all(self.conn()).await.db()?;
        all(found, account)
    }

    async fn transfer_by_key(&mut self, idem_key: &str) -> Result<Option<TransferRow>> {
        let sql = format!("SELECT {TRANSFER_COLS} FROM transfers WHERE idem_key = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(idem_key).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(transfer).transpose()
    }

    async fn transfers_of(&mut self, accounts: &[String], before_ms: Option<i64>, n: u32) -> Result<Vec<TransferRow>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let accounts = &accounts[..accounts.len().min(20)];
        let list: Vec<String> = (0..accounts.len()).map(|i| format!("${}", i + 3)).collect();
        let list = list.join(", ");
        let sql = format!(
            "SELECT {TRANSFER_COLS} FROM transfers WHERE (from_account IN ({list}) OR to_account IN ({list})) \
             AND ($1 IS NULL OR at_ms < $1) ORDER BY at_ms DESC, id DESC LIMIT $2"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(before_ms).bind(limit(n, 500));
        for a in accounts {
            q = q.bind(a.as_str());
        }
        let found = q.fetch_all(self.conn()).await.db()?;
        all(found, transfer)
    }

    async fn ledger_page(&mut self, after: &str, n: u32) -> Result<Vec<LedgerLine>> {
        let found = sqlx::query(
            "SELECT id, balance + COALESCE((SELECT CAST(SUM(s.balance) AS BIGINT) FROM account_slots s WHERE s.account_id = a.id), 0) AS balance, \
             COALESCE((SELECT CAST(SUM(t.amount_fen) AS BIGINT) FROM transfers t WHERE t.to_account = a.id), 0) AS credits, \
             COALESCE((SELECT CAST(SUM(t.amount_fen) AS BIGINT) FROM transfers t WHERE t.from_account = a.id), 0) AS debits \
             FROM accounts a WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit(n, 10_000))
        .fetch_all(self.conn())
        .await.db()?;
        found
            .iter()
            .map(|r| {
                Ok(LedgerLine {
                    account: text(r, "id")?,
                    balance_fen: int(r, "balance")?,
                    credits_fen: int(r, "credits")?,
                    debits_fen: int(r, "debits")?,
                })
            })
            .collect()
    }

    async fn transfer_totals(&mut self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, COALESCE(CAST(SUM(amount_fen) AS BIGINT), 0) AS total FROM transfers",
        )
        .fetch_one(self.conn())
        .await.db()?;
        Ok((int(&row, "n")?, int(&row, "total")?))
    }
}

/// Reads of the one-card tables that the Cards port serves (see `tx.rs`).
impl SqlTx {
    pub(crate) async fn sql_card_with_person(
        &mut self,
        card_no: &str,
        lock_person: bool,
    ) -> Result<Option<(Card, Person)>> {
        // PostgreSQL locks only the person's row: the card is read, not changed.
        let lock = if lock_person && self.dialect() == super::Dialect::Postgres { " FOR UPDATE OF p" } else { "" };
        let sql = format!("{} WHERE c.card_no = $1{lock}", card_person_select());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(card_no).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(|r| card_person(r, self.vault())).transpose()
    }

    pub(crate) async fn sql_cards_with_persons(&mut self, card_nos: &[String]) -> Result<Vec<(Card, Person)>> {
        if card_nos.is_empty() {
            return Ok(Vec::new());
        }
        let card_nos = &card_nos[..card_nos.len().min(MAX_CARDS_PER_READ)];
        let sql = format!(
            "{} WHERE c.card_no IN ({})",
            card_person_select(),
            placeholders(self.dialect(), 1, card_nos.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for no in card_nos {
            q = q.bind(no.as_str());
        }
        let found = q.fetch_all(self.conn()).await.db()?;
        found.iter().map(|r| card_person(r, self.vault())).collect()
    }
}

#[async_trait]
impl ports::Medical for SqlTx {
    async fn settlement_context(
        &mut self,
        operator_code: &str,
        bill_id: &str,
        person_id: &str,
        year: i64,
        regions: [&str; 2],
        accounts: [&str; 2],
    ) -> Result<SettlementContext> {
        let row = sqlx::query(AssertSqlSafe(settlement_context_select()))
            .bind(operator_code)
            .bind(bill_id)
            .bind(person_id)
            .bind(year)
            .bind(regions[0])
            .bind(regions[1])
            .bind(accounts[0])
            .bind(accounts[1])
            .fetch_one(self.conn())
            .await
            .db()?;
        let mut found = Vec::new();
        for x in ["a1_", "a2_"] {
            if let Some(id) = opt_text(&row, &format!("{x}id"))? {
                found.push((id, int(&row, &format!("{x}balance"))?));
            }
        }
        let prior = if opt_text(&row, "s_id")?.is_some() { Some(settlement_p(&row, "s_")?) } else { None };
        let year = match opt_int(&row, "y_deductible_used_fen")? {
            Some(deductible_used_fen) => {
                Some(YearToDate { deductible_used_fen, pool_paid_fen: int(&row, "y_pool_paid_fen")? })
            }
            None => None,
        };
        let mut policies = Vec::new();
        for x in ["mp_", "pp_"] {
            if opt_text(&row, &format!("{x}region"))?.is_some() {
                policies.push(medical_policy_p(&row, x)?);
            }
        }
        Ok(SettlementContext { prior, year, policies, accounts: found })
    }

    async fn put_medical_policy(&mut self, p: &MedicalPolicy, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO medical_policies (region, deductible_fen, ratio_local_bp, ratio_in_province_bp, ratio_cross_province_bp, annual_cap_fen, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region) DO UPDATE SET deductible_fen = $2, ratio_local_bp = $3, \
             ratio_in_province_bp = $4, ratio_cross_province_bp = $5, annual_cap_fen = $6, updated_at_ms = $7",
        )
        .bind(p.region.to_string())
        .bind(p.deductible_fen)
        .bind(i64::from(p.ratio_local_bp))
        .bind(i64::from(p.ratio_in_province_bp))
        .bind(i64::from(p.ratio_cross_province_bp))
        .bind(p.annual_cap_fen)
        .bind(now_ms)
        .execute(self.conn())
        .await.db()?;
        Ok(())
    }

    async fn get_medical_year(&mut self, person_id: &str, year: i64) -> Result<Option<YearToDate>> {
        let row = sqlx::query(
            "SELECT deductible_used_fen, pool_paid_fen FROM medical_years WHERE person_id = $1 AND year = $2",
        )
        .bind(person_id)
        .bind(year)
        .fetch_optional(self.conn())
        .await
        .db()?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(YearToDate {
            deductible_used_fen: int(&row, "deductible_used_fen")?,
            pool_paid_fen: int(&row, "pool_paid_fen")?,
        }))
    }

    async fn put_medical_year(&mut self, person_id: &str, year: i64, ytd: &YearToDate) -> Result<()> {
        sqlx::query(
            "INSERT INTO medical_years (person_id, year, deductible_used_fen, pool_paid_fen) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id, year) DO UPDATE SET deductible_used_fen = $3, pool_paid_fen = $4",
        )
        .bind(person_id)
        .bind(year)
        .bind(ytd.deductible_used_fen)
        .bind(ytd.pool_paid_fen)
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn settlement_of_bill(&mut self, operator_code: &str, bill_id: &str) -> Result<Option<SettlementRow>> {
        let sql = format!("SELECT {SETTLEMENT_COLS} FROM settlements WHERE operator_code = $1 AND bill_id = $2");
        let row =
            sqlx::query(AssertSqlSafe(sql)).bind(operator_code).bind(bill_id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(settlement).transpose()
    }

    async fn get_settlement(&mut self, id: &str, lock: bool) -> Result<Option<SettlementRow>> {
        let lock = if lock { self.dialect().for_update() } else { "" };
        let sql = format!("SELECT {SETTLEMENT_COLS} FROM settlements WHERE id = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(settlement).transpose()
    }

    async fn mark_refunded(&mut self, id: &str, at_ms: i64) -> Result<()> {
        let done = sqlx::query("UPDATE settlements SET refunded_at_ms = $2 WHERE id = $1 AND refunded_at_ms IS NULL")
            .bind(id)
            .bind(at_ms)
            .execute(self.conn())
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("unrefunded settlement", id));
        }
        Ok(())
    }
}

/// Reads of the one-card tables that the AuditLog port serves (see `tx.rs`).
impl SqlTx {
    pub(crate) async fn sql_card_audits(&mut self, card_nos: &[String], n: u32) -> Result<Vec<AuditRow>> {
        if card_nos.is_empty() {
            return Ok(Vec::new());
        }
        let card_nos = &card_nos[..card_nos.len().min(MAX_CARDS_PER_READ)];
        let sql = format!(
            "SELECT {} FROM audit_log WHERE entity = 'card' AND entity_id IN ({}) ORDER BY seq LIMIT {}",
            super::tx::AUDIT_COLS,
            placeholders(self.dialect(), 1, card_nos.len()),
            placeholders(self.dialect(), card_nos.len() + 1, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for no in card_nos {
            q = q.bind(no.as_str());
        }
        all(q.bind(limit(n, 1_000_000)).fetch_all(self.conn()).await.db()?, super::rows::audit)
    }
}

#[async_trait]
impl ports::Transit for SqlTx {
    async fn get_tap(&mut self, terminal_id: &str, seq: i64) -> Result<Option<TapRow>> {
        let sql = format!("SELECT {TAP_COLS} FROM transit_taps WHERE terminal_id = $1 AND seq = $2");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(terminal_id).bind(seq).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(tap).transpose()
    }

    async fn taps_between(&mut self, terminal_id: &str, from: i64, to: i64, limit: u32) -> Result<Vec<TapRow>> {
        let sql = format!(
            "SELECT {TAP_COLS} FROM transit_taps WHERE terminal_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq LIMIT $4"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(terminal_id)
            .bind(from)
            .bind(to)
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_all(self.conn())
            .await
            .db()?;
        found.iter().map(tap).collect()
    }
}

#[async_trait]
impl ports::Library for SqlTx {
    async fn get_library_policy(&mut self, operator_code: &str) -> Result<Option<LibraryPolicy>> {
        let row = sqlx::query("SELECT loan_limit, loan_days FROM library_policies WHERE operator_code = $1")
            .bind(operator_code)
            .fetch_optional(self.conn())
            .await
            .db()?;
        let Some(row) = row else { return Ok(None) };
        let n = |col: &str| -> Result<u32> {
            let v = int(&row, col)?;
            u32::try_from(v).map_err(|_| corrupt(col, &v.to_string()))
        };
        Ok(Some(LibraryPolicy { loan_limit: n("loan_limit")?, loan_days: n("loan_days")? }))
    }

    async fn put_library_policy(&mut self, operator_code: &str, p: &LibraryPolicy, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO library_policies (operator_code, loan_limit, loan_days, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (operator_code) DO UPDATE SET loan_limit = $2, loan_days = $3, updated_at_ms = $4",
        )
        .bind(operator_code)
        .bind(i64::from(p.loan_limit))
        .bind(i64::from(p.loan_days))
        .bind(now_ms)
        .execute(self.conn())
        .await.db()?;
        Ok(())
    }

    async fn insert_patron(&mut self, operator_code: &str, person_id: &str, now_ms: i64) -> Result<()> {
        sqlx::query("INSERT INTO library_patrons (operator_code, person_id, registered_at_ms) VALUES ($1, $2, $3)")
            .bind(operator_code)
            .bind(person_id)
            .bind(now_ms)
            .execute(self.conn())
            .await
            .map_err(dup("patron"))?;
        Ok(())
    }

    async fn is_patron(&mut self, operator_code: &str, person_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT person_id FROM library_patrons WHERE operator_code = $1 AND person_id = $2")
            .bind(operator_code)
            .bind(person_id)
            .fetch_optional(self.conn())
            .await
            .db()?;
        Ok(row.is_some())
    }

    async fn insert_loan(&mut self, l: &LoanRow) -> Result<()> {
        let sql = format!("INSERT INTO loans ({LOAN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(l.id.as_str())
            .bind(l.operator_code.as_str())
            .bind(l.item_id.as_str())
            .bind(l.person_id.clone())
            .bind(l.card_no.clone())
            .bind(l.deployment.clone())
            .bind(l.ecard_id.clone())
            .bind(l.terminal_id.as_str())
            .bind(l.borrowed_at_ms)
            .bind(l.due_at_ms)
            .bind(l.returned_at_ms)
            .bind(l.returned_terminal_id.clone())
            .execute(self.conn())
            .await
            .map_err(dup("open loan of this item"))?;
        Ok(())
    }

    async fn open_loan_of_item(&mut self, operator_code: &str, item_id: &str) -> Result<Option<LoanRow>> {
        let sql = format!(
            "SELECT {LOAN_COLS} FROM loans WHERE operator_code = $1 AND item_id = $2 AND returned_at_ms IS NULL"
        );
        let row =
            sqlx::query(AssertSqlSafe(sql)).bind(operator_code).bind(item_id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(loan).transpose()
    }

    async fn loan_counts(&mut self, operator_code: &str, who: Borrower<'_>, now_ms: i64) -> Result<(u32, u32)> {
        const COUNTS: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS open, CAST(COALESCE(SUM(CASE WHEN due_at_ms < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue \
             FROM loans WHERE operator_code = $1 AND returned_at_ms IS NULL";
        let query = match who {
            Borrower::Person(person_id) => sqlx::query(AssertSqlSafe(format!("{COUNTS} AND person_id = $3")))
                .bind(operator_code)
                .bind(now_ms)
                .bind(person_id),
            // The e-card id is random and held by one deployment: the deployment only confirms it.
            Borrower::Visitor { deployment, ecard_id } => {
                sqlx::query(AssertSqlSafe(format!("{COUNTS} AND ecard_id = $3 AND deployment = $4")))
                    .bind(operator_code)
                    .bind(now_ms)
                    .bind(ecard_id)
                    .bind(deployment)
            }
        };
        let row = query.fetch_one(self.conn()).await.db()?;
        let n = |c: &str| -> Result<u32> { Ok(u32::try_from(int(&row, c)?).unwrap_or(u32::MAX)) };
        Ok((n("open")?, n("overdue")?))
    }

    async fn close_loan(&mut self, id: &str, at_ms: i64, terminal_id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE loans SET returned_at_ms = $2, returned_terminal_id = $3 WHERE id = $1 AND returned_at_ms IS NULL",
        )
        .bind(id)
        .bind(at_ms)
        .bind(terminal_id)
        .execute(self.conn())
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("open loan", id));
        }
        Ok(())
    }

    async fn overdue_loans(&mut self, operator_code: &str, now_ms: i64, n: u32) -> Result<Vec<LoanRow>> {
        let sql = format!(
            "SELECT {LOAN_COLS} FROM loans WHERE operator_code = $1 AND returned_at_ms IS NULL AND due_at_ms < $2 ORDER BY due_at_ms, id LIMIT $3"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(operator_code)
            .bind(now_ms)
            .bind(limit(n, 1000))
            .fetch_all(self.conn())
            .await
            .db()?;
        all(found, loan)
    }
}

#[async_trait]
impl ports::Parks for SqlTx {
    async fn upsert_park(&mut self, p: &ParkRow) -> Result<()> {
        let r = &p.rule;
        sqlx::query(
            "INSERT INTO parks (code, operator_code, name, price_fen, free_for_retirees, accepts_annual_pass, annual_pass_fen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE SET operator_code = $2, name = $3, price_fen = $4, \
             free_for_retirees = $5, accepts_annual_pass = $6, annual_pass_fen = $7",
        )
        .bind(r.code.as_str())
        .bind(p.operator_code.as_str())
        .bind(r.name.as_str())
        .bind(r.price_fen)
        .bind(i64::from(r.free_for_retirees))
        .bind(i64::from(r.accepts_annual_pass))
        .bind(r.annual_pass_fen)
        .execute(self.conn())
        .await.db()?;
        Ok(())
    }

    async fn get_park(&mut self, code: &str) -> Result<Option<ParkRow>> {
        let row = sqlx::query("SELECT code, operator_code, name, price_fen, free_for_retirees, accepts_annual_pass, annual_pass_fen FROM parks WHERE code = $1")
            .bind(code)
            .fetch_optional(self.conn())
            .await.db()?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ParkRow {
            operator_code: text(&row, "operator_code")?,
            rule: ParkRule {
                code: text(&row, "code")?,
                name: text(&row, "name")?,
                price_fen: int(&row, "price_fen")?,
                free_for_retirees: int(&row, "free_for_retirees")? != 0,
                accepts_annual_pass: int(&row, "accepts_annual_pass")? != 0,
                annual_pass_fen: opt_int(&row, "annual_pass_fen")?,
            },
        }))
    }

    async fn insert_pass(&mut self, p: &PassRow) -> Result<()> {
        sqlx::query("INSERT INTO park_passes (id, park_code, person_id, card_no, start_ms, end_ms, price_fen, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(p.id.as_str())
            .bind(p.park_code.as_str())
            .bind(p.person_id.as_str())
            .bind(p.card_no.as_str())
            .bind(p.start_ms)
            .bind(p.end_ms)
            .bind(p.price_fen)
            .bind(p.at_ms)
            .execute(self.conn())
            .await.db()?;
        Ok(())
    }

    async fn pass_end(&mut self, person_id: &str, park_code: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT CAST(MAX(end_ms) AS BIGINT) AS end_ms FROM park_passes WHERE person_id = $1 AND park_code = $2",
        )
        .bind(person_id)
        .bind(park_code)
        .fetch_one(self.conn())
        .await
        .db()?;
        opt_int(&row, "end_ms")
    }

    async fn insert_entry(&mut self, e: &EntryRow) -> Result<()> {
        sqlx::query("INSERT INTO park_entries (id, park_code, terminal_id, person_id, card_no, deployment, ecard_id, admitted, price_fen, reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(e.id.as_str())
            .bind(e.park_code.as_str())
            .bind(e.terminal_id.as_str())
            .bind(e.person_id.clone())
            .bind(e.card_no.clone())
            .bind(e.deployment.clone())
            .bind(e.ecard_id.clone())
            .bind(i64::from(e.admitted))
            .bind(e.price_fen)
            .bind(e.reason.as_str())
            .bind(e.at_ms)
            .execute(self.conn())
            .await.db()?;
        Ok(())
    }
}

#[async_trait]
impl ports::Uses for SqlTx {
    async fn insert_use(&mut self, u: &UseRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO card_uses ({USE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(u.id.as_str())
            .bind(u.at_ms)
            .bind(u.scenario.as_str())
            .bind(u.terminal_id.as_str())
            .bind(u.operator_code.as_str())
            .bind(u.person_id.clone())
            .bind(u.card_no.clone())
            .bind(u.presented.as_str())
            .bind(u.result.as_str())
            .bind(u.reason.clone())
            .bind(u.region.as_str())
            .bind(u.deployment.clone())
            .bind(u.ecard_id.clone())
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn uses_of_person(&mut self, person_id: &str, before_ms: Option<i64>, n: u32) -> Result<Vec<UseRow>> {
        let sql = format!(
            "SELECT {USE_COLS} FROM card_uses WHERE person_id = $1 AND ($2 IS NULL OR at_ms < $2) ORDER BY at_ms DESC, id DESC LIMIT $3"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(person_id)
            .bind(before_ms)
            .bind(limit(n, 500))
            .fetch_all(self.conn())
            .await
            .db()?;
        all(found, use_row)
    }
}

/// Reads of the one-card tables that the Stats port serves (see `tx.rs`).
impl SqlTx {
    pub(crate) async fn sql_usage_counts(&mut self) -> Result<Vec<UsageCount>> {
        let found = sqlx::query(
            "SELECT scenario, presented, CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(CASE WHEN result = 'refused' THEN 1 ELSE 0 END), 0) AS BIGINT) AS refused \
             FROM card_uses GROUP BY scenario, presented ORDER BY scenario, presented LIMIT 100",
        )
        .fetch_all(self.conn())
        .await
        .db()?;
        found
            .iter()
            .map(|r| {
                Ok(UsageCount {
                    scenario: text(r, "scenario")?,
                    presented: text(r, "presented")?,
                    count: int(r, "n")?,
                    refused: int(r, "refused")?,
                })
            })
            .collect()
    }
}
