//! A small migration runner: each backend embeds its own ordered SQL files and
//! they are applied once each, in a transaction, recorded in `schema_migrations`.

use crate::Db;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use sscard_store::Result;

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Applies every migration newer than the database's version. Safe to run on every start.
pub async fn run(pool: &AnyPool, migrations: &[Migration]) -> Result<usize> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .execute(pool)
        .await
        .db()?;
    let mut applied = 0;
    for m in migrations {
        let mut tx = pool.begin().await.db()?;
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(AssertSqlSafe(m.sql)).execute(&mut *tx).await.db()?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        applied += 1;
    }
    Ok(applied)
}

/// The highest applied version, 0 for an empty database.
pub async fn current_version(pool: &AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_migrations")
        .fetch_one(pool)
        .await
        .db()?;
    row.try_get::<i64, _>("v").db()
}
