//! sscard-store-sql: the one SQL implementation of the storage ports of `sscard-store`,
//! over sqlx's `Any` driver, on SQLite (feature `sqlite`, the embedded default) and
//! PostgreSQL (feature `postgres`). The SQL text is the same for both (`$1` placeholders,
//! BIGINT/TEXT columns, `RETURNING`); [`Dialect`] holds the rest. Each backend's schema is
//! in `migrations/<backend>/`. See docs/ARCHITECTURE.md for where this sits.
#![forbid(unsafe_code)]

mod bank_returns;
pub mod bench;
mod benefits;
mod bulk;
mod error;
mod hub;
mod hub_secrets;
mod json_rows;
mod lines_to_pay;
pub mod migrate;
mod nation_medical;
mod onecard;
#[cfg(feature = "postgres")]
pub mod postgres;
mod relay;
mod rows;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod tx;
pub mod vault;

pub(crate) use error::Db;

use crate::migrate::Migration;
use async_trait::async_trait;
use sqlx::AnyPool;
use sqlx::ConnectOptions;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sscard_store::CommitObserver;
use sscard_store::tx::{Store, Tx};
use sscard_store::{Result, StoreError};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use sscard_gm::vault::DataKeys;
pub use tx::SqlTx;
pub use vault::Rotation;

/// Opens the store named by a `sqlite://` or `postgres://` URL, migrating it and sealing any
/// personal data still in clear with `keys` (see [`vault`]).
pub async fn open(url: &str, keys: DataKeys) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(open_sql(url, keys).await?))
}

/// Like [`open`], giving the [`SqlStore`] itself (for [`SqlStore::rotate_data`]).
pub async fn open_sql(url: &str, keys: DataKeys) -> Result<SqlStore> {
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return postgres::open(url, keys).await;
    }
    #[cfg(feature = "sqlite")]
    if url.starts_with("sqlite:") {
        return sqlite::open(url, keys).await;
    }
    Err(StoreError::Backend(format!("unsupported database URL {url:?}: use sqlite://PATH or postgres://...")))
}

/// What differs between the backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// SQLite takes the write lock up front so two writers never deadlock on upgrade;
    /// PostgreSQL runs at READ COMMITTED with explicit row locks.
    fn begin_write(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }
    /// The balance slot (migration 0005) a writer adds organisation balance changes to: on
    /// PostgreSQL its connection's, so that concurrent writers do not meet (connections of
    /// one pool have consecutive process ids); SQLite has one writer at a time.
    pub(crate) fn balance_slot(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "pg_backend_pid() % 64",
        }
    }
    /// Row lock for read-modify-write; SQLite's IMMEDIATE transaction already excludes other writers.
    pub(crate) fn for_update(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
    /// Outbox readers only see events whose writers have all finished (PostgreSQL assigns
    /// sequence numbers before commit; SQLite commits writers one at a time in order).
    ///
    /// On PostgreSQL the bound is the oldest transaction still running *in this database*:
    /// the snapshot's in-progress ids, less those `pg_stat_activity` shows running in another
    /// database (transaction ids are the cluster's, so a long transaction elsewhere would
    /// otherwise hold every feed here back). An id not found there (a role that may not see
    /// other sessions, a transaction begun since) stays in the bound: never too far.
    pub(crate) fn events_visible(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => {
                " AND txid < (SELECT COALESCE(MIN(x), pg_snapshot_xmax(pg_current_snapshot())) \
                 FROM pg_snapshot_xip(pg_current_snapshot()) AS x WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
                 WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database() \
                 AND CAST(a.backend_xid AS TEXT) = CAST(CAST(CAST(x AS TEXT) AS BIGINT) % 4294967296 AS TEXT)))"
            }
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// Connection settings a backend crate chooses.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Statements run on every new connection (SQLite pragmas).
    pub on_connect: &'static str,
}

/// Who hears about commits (see [`sscard_store::live`]).
pub(crate) type Observers = Arc<RwLock<Vec<Arc<dyn CommitObserver>>>>;

/// A [`Store`] on a sqlx pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    observers: Observers,
    vault: Arc<vault::Vault>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("dialect", &self.dialect).finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects, applies the backend's migrations, checks the data keys, seals any personal
    /// data still in clear and returns the store.
    pub async fn open(
        url: &str,
        dialect: Dialect,
        settings: PoolSettings,
        migrations: &[Migration],
        keys: DataKeys,
    ) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let on_connect = settings.on_connect;
        // A benefit batch's chunk statements take over a second by design; sqlx would warn of
        // each with its whole SQL. They are reported at info (`SSCARD_LOG=sqlx=info`) instead.
        let options =
            AnyConnectOptions::from_str(url).db()?.log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if !on_connect.is_empty() {
                        sqlx::raw_sql(on_connect).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .db()?;
        migrate::run(&pool, migrations).await?;
        let vault = Arc::new(vault::Vault::new(keys));
        vault::init(&pool, &vault).await?;
        vault::convert(&pool, dialect, &vault).await?;
        Ok(Self { pool, dialect, observers: Observers::default(), vault })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
    /// The data key version new values are sealed with.
    pub fn data_key_version(&self) -> u32 {
        self.vault.current()
    }
    /// `sscard keys rotate-data`: a new data key version, and every row sealed under an older
    /// one sealed again under it, `chunk` rows per transaction (see [`vault::rotate`]).
    pub async fn rotate_data(
        &self,
        chunk: u32,
        progress: &mut (dyn FnMut(&'static str, u64) + Send),
    ) -> Result<Rotation> {
        vault::rotate(&self.pool, self.dialect, &self.vault, chunk, progress).await
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.dialect.name()
    }
    async fn write(&self) -> Result<Box<dyn Tx>> {
        let mut tx = self.pool.begin_with(self.dialect.begin_write()).await.db()?;
        if self.vault.refresh_due() {
            vault::refresh(&mut tx, &self.vault).await?;
        }
        Ok(Box::new(SqlTx::new(tx, self.dialect, true, self.vault.clone()).observed_by(self.observers.clone())))
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let tx = self.pool.begin().await.db()?;
        Ok(Box::new(SqlTx::new(tx, self.dialect, false, self.vault.clone())))
    }
    async fn close(&self) {
        self.pool.close().await;
    }
    fn observe_commits(&self, observer: Arc<dyn CommitObserver>) -> bool {
        self.observers.write().unwrap_or_else(|p| p.into_inner()).push(observer);
        true
    }
    async fn ecard_with_card(
        &self,
        id: &str,
    ) -> Result<Option<(sscard_domain::ecard::Ecard, sscard_domain::card::Card, sscard_domain::person::Person)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(tx::ecard_with_card_sql()))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(|r| tx::ecard_with_card_row(r, &self.vault)).transpose()
    }
}
