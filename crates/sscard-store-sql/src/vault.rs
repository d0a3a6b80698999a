//! Personal data at rest (migration 0009): the store seals names, SSNs, document numbers,
//! relationship proofs, mailing addresses, full PANs and the stored answers of repeat-safe
//! requests on write and opens them on read, so the ports keep their clear domain types.
//!
//! * Each value is `v{n}.{base64}` (see [`sscard_gm::vault`]), sealed under data key version
//!   `n` with associated data naming table, column and row: a ciphertext moved to another row
//!   or column does not open. Each row also keeps `key_version`, so rotation finds old rows.
//! * Lookups by SSN and document number (and PAN uniqueness) go through keyed HMAC-SM3 blind
//!   indexes (`ssn_index`, `doc_index`, `pan_index`) carrying the unique indexes.
//! * `data_keys` lists the versions; the highest is current. Each row holds a check value
//!   sealed under its version, so a wrong master key is refused at open, not met as garbage.
//! * A database from before 0009 is converted at open ([`convert`]), in short chunks, each
//!   committed: a start killed mid-way continues at the next. `sscard keys rotate-data`
//!   ([`crate::SqlStore::rotate_data`]) re-seals rows of older versions the same way.
//! * The hub's sealed deployment secrets (migration 0020) are sealed the same way; that table
//!   keeps no `key_version`, so rotation reads a row's version from its value's `v{n}.` prefix.

use crate::{Db, Dialect};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use sscard_gm::vault::DataKeys;
use sscard_store::{Result, StoreError};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How often a writer looks for a newer data key version (one query per interval).
pub const REFRESH: Duration = Duration::from_secs(1);
/// Rows re-sealed per transaction by conversion and rotation.
pub const DEFAULT_CHUNK: u32 = 500;
/// The text a data key's check value seals.
const CHECK_TEXT: &str = "sscard personal data key check";

/// The data keys of a store and the version new values are sealed with.
pub struct Vault {
    keys: DataKeys,
    current: AtomicU32,
    refreshed: Mutex<Instant>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("current", &self.current()).finish_non_exhaustive()
    }
}

/// Associated data binding a value to its column and row.
fn aad(column: &str, row: &[&str]) -> Vec<u8> {
    let mut out = column.as_bytes().to_vec();
    for part in row {
        out.push(0);
        out.extend_from_slice(part.as_bytes());
    }
    out
}

fn wrong_key(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!(
        "{what} does not open with this master key (wrong SSCARD_MASTER_KEY or key file?, or the data was modified)"
    ))
}

impl Vault {
    pub(crate) fn new(keys: DataKeys) -> Self {
        Vault { keys, current: AtomicU32::new(1), refreshed: Mutex::new(Instant::now()) }
    }
    /// The version new values are sealed with.
    pub fn current(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }
    pub(crate) fn set_current(&self, version: u32) {
        self.current.store(version, Ordering::Relaxed);
        *self.refreshed.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }
    /// Whether a writer should look for a newer version now.
    pub(crate) fn refresh_due(&self) -> bool {
        self.refreshed.lock().unwrap_or_else(|p| p.into_inner()).elapsed() >= REFRESH
    }
    /// Seals `text` of `column` (`table.column`) of the row keyed `row`.
    pub(crate) fn seal(&self, column: &str, row: &[&str], text: &str) -> String {
        self.keys.seal(self.current(), text.as_bytes(), &aad(column, row))
    }
    pub(crate) fn seal_opt(&self, column: &str, row: &[&str], text: Option<&str>) -> Option<String> {
        text.map(|t| self.seal(column, row, t))
    }
    /// Opens a sealed value of `column` of the row keyed `row`.
    pub(crate) fn open(&self, column: &str, row: &[&str], sealed: &str) -> Result<String> {
        self.keys.open_text(sealed, &aad(column, row)).map_err(|e| match e {
            sscard_gm::vault::VaultError::CannotOpen(_) => wrong_key(format_args!("{column} of {}", row.join("/"))),
            other => StoreError::corrupt(format_args!("{column} of {}: {other}", row.join("/"))),
        })
    }
    pub(crate) fn open_opt(&self, column: &str, row: &[&str], sealed: Option<String>) -> Result<Option<String>> {
        sealed.map(|s| self.open(column, row, &s)).transpose()
    }
    /// The blind index of an SSN.
    pub fn ssn_index(&self, ssn: &str) -> String {
        self.keys.blind_index("ssn", ssn)
    }
    /// The blind index of a document number (of any type: lookups do not name the type).
    pub fn doc_index(&self, doc_number: &str) -> String {
        self.keys.blind_index("doc", doc_number)
    }
    /// The blind index of a PAN (one card per bank account number).
    pub fn pan_index(&self, pan: &str) -> String {
        self.keys.blind_index("pan", pan)
    }
    fn check_value(&self, version: u32) -> String {
        self.keys.seal(version, CHECK_TEXT.as_bytes(), &aad("data_keys.check_value", &[&version.to_string()]))
    }
    fn check(&self, version: u32, sealed: &str) -> Result<()> {
        match self.keys.open_text(sealed, &aad("data_keys.check_value", &[&version.to_string()])) {
            Ok(text) if text == CHECK_TEXT => Ok(()),
            _ => Err(wrong_key(format_args!("the personal data key version {version} of this database"))),
        }
    }
}

fn version(v: i64) -> Result<u32> {
    u32::try_from(v).ok().filter(|v| *v >= 1).ok_or_else(|| StoreError::corrupt(format!("data key version {v}")))
}

/// The versions in `data_keys`, oldest first, with their check values.
async fn versions(conn: &mut sqlx::AnyConnection) -> Result<Vec<(u32, String)>> {
    let found =
        sqlx::query("SELECT version, check_value FROM data_keys ORDER BY version").fetch_all(&mut *conn).await.db()?;
    found
        .iter()
        .map(|r| Ok((version(r.try_get::<i64, _>("version").db()?)?, crate::rows::text(r, "check_value")?)))
        .collect()
}

/// Records version `v` (a no-op if another process did first).
async fn add_version(conn: &mut sqlx::AnyConnection, vault: &Vault, v: u32, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO data_keys (version, check_value, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
    )
    .bind(i64::from(v))
    .bind(vault.check_value(v))
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Makes sure version 1 exists, proves the master key opens every version's check value,
/// and makes the newest the current one.
pub(crate) async fn init(pool: &AnyPool, vault: &Vault) -> Result<()> {
    let mut conn = pool.acquire().await.db()?;
    let mut found = versions(&mut conn).await?;
    if found.is_empty() {
        add_version(&mut conn, vault, 1, now_ms()).await?;
        found = versions(&mut conn).await?;
    }
    for (v, check) in &found {
        vault.check(*v, check)?;
    }
    vault.set_current(found.last().map_or(1, |(v, _)| *v));
    Ok(())
}

/// Reads the newest version (a writer calls this every [`REFRESH`]).
pub(crate) async fn refresh(conn: &mut sqlx::AnyConnection, vault: &Vault) -> Result<()> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(version), 1) AS BIGINT) AS v FROM data_keys")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    vault.set_current(version(row.try_get::<i64, _>("v").db()?)?);
    Ok(())
}

/// Where a table keeps the data key version of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionAt {
    /// Its `key_version` column (NULL on rows of before 0009, which [`convert`] seals).
    Column,
    /// Only the `v{n}.` prefix of its sealed values: a table made after 0009 without a
    /// `key_version` column, whose values were sealed from the start (never converted).
    Prefix,
}

/// A table holding sealed columns.
pub(crate) struct Sealed {
    pub table: &'static str,
    pub version: VersionAt,
    pub key: &'static [&'static str],
    pub columns: &'static [&'static str],
    /// Blind index column, its purpose, the sealed column it indexes.
    pub indexes: &'static [(&'static str, &'static str, &'static str)],
    /// Whether the key columns are integers (their decimal text goes into the associated data).
    pub int_key: bool,
}

/// Every table with sealed columns.
pub(crate) const SEALED: &[Sealed] = &[
    Sealed {
        table: "persons",
        version: VersionAt::Column,
        key: &["id"],
        columns: &["name", "ssn", "doc_number", "relationship_proof"],
        indexes: &[("ssn_index", "ssn", "ssn"), ("doc_index", "doc", "doc_number")],
        int_key: false,
    },
    Sealed {
        table: "applications",
        version: VersionAt::Column,
        key: &["id"],
        columns: &["mail_address"],
        indexes: &[],
        int_key: false,
    },
    Sealed {
        table: "cards",
        version: VersionAt::Column,
        key: &["card_no"],
        columns: &["pan"],
        indexes: &[("pan_index", "pan", "pan")],
        int_key: false,
    },
    Sealed {
        table: "idempotency",
        version: VersionAt::Column,
        key: &["scope", "key"],
        columns: &["request_hash", "body"],
        indexes: &[],
        int_key: false,
    },
    // Migration 0014: a benefit line's payee as the payer sent it and the account it was paid to.
    Sealed {
        table: "benefit_lines",
        version: VersionAt::Column,
        key: &["batch_no", "seq"],
        columns: &["ssn", "name", "account_no"],
        // Migration 0025: the SSN's blind index, which paying the line joins persons on.
        indexes: &[("ssn_index", "ssn", "ssn")],
        int_key: true,
    },
    Sealed {
        table: "benefit_payments",
        version: VersionAt::Column,
        key: &["end_to_end_id"],
        columns: &["account_no"],
        indexes: &[],
        int_key: false,
    },
    // Migration 0020, at a hub: the deployments' secrets it presents when it forwards to them.
    Sealed {
        table: "hub_deployment_secrets",
        version: VersionAt::Prefix,
        key: &["code"],
        columns: &["sealed_secret"],
        indexes: &[],
        int_key: false,
    },
];

/// What a chunk does to the rows it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Rows of before 0009 (key_version NULL) hold clear values: seal them, fill the indexes.
    Convert,
    /// Rows sealed under another version than this: open and seal again under it.
    Rotate(u32),
}

fn index(vault: &Vault, purpose: &str, clear: &str) -> String {
    vault.keys.blind_index(purpose, clear)
}

/// The `(a, b) > ($1, $2)` cursor condition and the numbers of its placeholders.
fn after(key: &[&str]) -> String {
    let cols = key.join(", ");
    let marks: Vec<String> = (1..=key.len()).map(|i| format!("${i}")).collect();
    format!("({cols}) > ({})", marks.join(", "))
}

/// The condition of `t`'s rows sealed under another version than `v`.
fn other_version(t: &Sealed, v: u32) -> String {
    match t.version {
        VersionAt::Column => format!("key_version <> {v}"),
        VersionAt::Prefix => {
            let each: Vec<String> =
                t.columns.iter().map(|c| format!("({c} IS NOT NULL AND {c} NOT LIKE 'v{v}.%')")).collect();
            format!("({})", each.join(" OR "))
        }
    }
}

fn select_chunk(t: &Sealed, dialect: Dialect, pass: Pass, cursor: Option<&[String]>, limit: u32) -> String {
    let cols = [t.key, t.columns].concat().join(", ");
    let mut wheres = Vec::new();
    if cursor.is_some() {
        wheres.push(after(t.key));
    }
    wheres.push(match pass {
        Pass::Convert => "key_version IS NULL".to_string(),
        Pass::Rotate(v) => other_version(t, v),
    });
    format!(
        "SELECT {cols} FROM {} WHERE {} ORDER BY {} LIMIT {limit}{}",
        t.table,
        wheres.join(" AND "),
        t.key.join(", "),
        dialect.for_update()
    )
}

/// The new values of one selected row: sealed columns, then indexes (only when converting).
fn resealed(t: &Sealed, vault: &Vault, pass: Pass, row: &AnyRow, key: &[&str]) -> Result<Vec<Option<String>>> {
    let mut clear = Vec::with_capacity(t.columns.len());
    for col in t.columns {
        let column = format!("{}.{col}", t.table);
        let value = crate::rows::opt_text(row, col)?;
        clear.push(match pass {
            Pass::Convert => value,
            Pass::Rotate(_) => vault.open_opt(&column, key, value)?,
        });
    }
    let mut out: Vec<Option<String>> = t
        .columns
        .iter()
        .zip(&clear)
        .map(|(col, v)| vault.seal_opt(&format!("{}.{col}", t.table), key, v.as_deref()))
        .collect();
    if pass == Pass::Convert {
        for (_, purpose, source) in t.indexes {
            let at = t.columns.iter().position(|c| c == source).unwrap_or(0);
            out.push(clear[at].as_deref().map(|v| index(vault, purpose, v)));
        }
    }
    Ok(out)
}

fn update_row(t: &Sealed, pass: Pass) -> String {
    let mut sets: Vec<&str> = t.columns.to_vec();
    if pass == Pass::Convert {
        sets.extend(t.indexes.iter().map(|(col, _, _)| *col));
    }
    let mut n = 0;
    let mut mark = || {
        n += 1;
        format!("${n}")
    };
    let mut assign: Vec<String> = sets.iter().map(|c| format!("{c} = {}", mark())).collect();
    if t.version == VersionAt::Column {
        assign.push(format!("key_version = {}", mark()));
    }
    let wheres: Vec<String> = t.key.iter().map(|c| format!("{c} = {}", mark())).collect();
    format!("UPDATE {} SET {} WHERE {}", t.table, assign.join(", "), wheres.join(" AND "))
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// The key of a selected row, as text (integers in decimal).
fn key_of(t: &Sealed, row: &AnyRow) -> Result<Vec<String>> {
    t.key
        .iter()
        .map(|c| if t.int_key { crate::rows::int(row, c).map(|v| v.to_string()) } else { crate::rows::text(row, c) })
        .collect()
}

/// Binds one key part with the column's type (PostgreSQL does not compare BIGINT to TEXT).
fn bind_key<'q>(q: Query<'q>, t: &Sealed, k: &str) -> Result<Query<'q>> {
    if t.int_key {
        let v: i64 = k.parse().map_err(|_| StoreError::corrupt(format!("key {k:?} of {}", t.table)))?;
        Ok(q.bind(v))
    } else {
        Ok(q.bind(k.to_string()))
    }
}

/// Re-seals one chunk of `t` after `cursor` in one write transaction: the rows changed and
/// the cursor to continue from (None when the table is done).
pub(crate) async fn chunk(
    pool: &AnyPool,
    dialect: Dialect,
    vault: &Vault,
    t: &Sealed,
    pass: Pass,
    cursor: Option<Vec<String>>,
    limit: u32,
) -> Result<(u64, Option<Vec<String>>)> {
    let mut tx = pool.begin_with(dialect.begin_write()).await.db()?;
    let sql = select_chunk(t, dialect, pass, cursor.as_deref(), limit);
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for k in cursor.iter().flatten() {
        q = bind_key(q, t, k)?;
    }
    let found = q.fetch_all(&mut *tx).await.db()?;
    let version = i64::from(match pass {
        Pass::Convert => vault.current(),
        Pass::Rotate(v) => v,
    });
    let update = update_row(t, pass);
    let mut last = None;
    for row in &found {
        let key = key_of(t, row)?;
        let refs: Vec<&str> = key.iter().map(String::as_str).collect();
        let mut q = sqlx::query(AssertSqlSafe(update.clone()));
        for v in resealed(t, vault, pass, row, &refs)? {
            q = q.bind(v);
        }
        if t.version == VersionAt::Column {
            q = q.bind(version);
        }
        for k in &key {
            q = bind_key(q, t, k)?;
        }
        q.execute(&mut *tx).await.db()?;
        last = Some(key);
    }
    tx.commit().await.db()?;
    let done = found.len() < limit as usize;
    Ok((found.len() as u64, if done { None } else { last }))
}

/// Runs `pass` over every sealed table, chunk by chunk: the rows changed per table.
pub(crate) async fn run_pass(
    pool: &AnyPool,
    dialect: Dialect,
    vault: &Vault,
    pass: Pass,
    limit: u32,
    progress: &mut (dyn FnMut(&'static str, u64) + Send),
) -> Result<Vec<(&'static str, u64)>> {
    let mut counts = Vec::new();
    for t in SEALED {
        if pass == Pass::Convert && t.version == VersionAt::Prefix {
            counts.push((t.table, 0));
            continue;
        }
        let (mut total, mut cursor) = (0, None);
        loop {
            let (n, next) = chunk(pool, dialect, vault, t, pass, cursor, limit.max(1)).await?;
            total += n;
            if n > 0 {
                progress(t.table, total);
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        counts.push((t.table, total));
    }
    Ok(counts)
}

/// Converts the clear rows of a database from before 0009; on SQLite, when any were
/// converted, checkpoints the WAL and VACUUMs so the clear values leave the file's free pages.
pub(crate) async fn convert(pool: &AnyPool, dialect: Dialect, vault: &Vault) -> Result<u64> {
    let mut report = |table: &'static str, n: u64| tracing::info!(table, rows = n, "sealing personal data at rest");
    let counts = run_pass(pool, dialect, vault, Pass::Convert, DEFAULT_CHUNK, &mut report).await?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total > 0 && dialect == Dialect::Sqlite {
        let mut conn = pool.acquire().await.db()?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await.db()?;
        sqlx::raw_sql("VACUUM").execute(&mut *conn).await.db()?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await.db()?;
    }
    if total > 0 {
        tracing::info!(rows = total, "personal data sealed at rest");
    }
    Ok(total)
}

/// What `rotate-data` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The version every row is sealed with now.
    pub version: u32,
    /// Whether this run added the version (false: it finished an interrupted rotation).
    pub added: bool,
    /// Rows re-sealed per table.
    pub counts: Vec<(&'static str, u64)>,
}

/// Whether any row is sealed under another version than `v`.
async fn any_other(pool: &AnyPool, v: u32) -> Result<bool> {
    for t in SEALED {
        let sql = format!("SELECT 1 AS one FROM {} WHERE {} LIMIT 1", t.table, other_version(t, v));
        if sqlx::query(AssertSqlSafe(sql)).fetch_optional(pool).await.db()?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Adds a new data key version (unless an interrupted rotation is to be finished) and
/// re-seals every older row under it, `limit` rows per transaction, while servers keep
/// running: they take up the new version within [`REFRESH`], and passes repeat until a
/// pass after that finds no older row.
pub(crate) async fn rotate(
    pool: &AnyPool,
    dialect: Dialect,
    vault: &Vault,
    limit: u32,
    progress: &mut (dyn FnMut(&'static str, u64) + Send),
) -> Result<Rotation> {
    let mut conn = pool.acquire().await.db()?;
    refresh(&mut conn, vault).await?;
    let mut target = vault.current();
    let added = !any_other(pool, target).await?;
    if added {
        target += 1;
        add_version(&mut conn, vault, target, now_ms()).await?;
        vault.set_current(target);
    }
    drop(conn);
    let mut counts: Vec<(&'static str, u64)> = SEALED.iter().map(|t| (t.table, 0)).collect();
    loop {
        let pass = run_pass(pool, dialect, vault, Pass::Rotate(target), limit, progress).await?;
        for ((_, total), (_, n)) in counts.iter_mut().zip(&pass) {
            *total += n;
        }
        // Writers that had not yet seen the new version may have sealed rows under the old one.
        tokio::time::sleep(REFRESH * 2).await;
        if !any_other(pool, target).await? {
            break;
        }
    }
    Ok(Rotation { version: target, added, counts })
}
