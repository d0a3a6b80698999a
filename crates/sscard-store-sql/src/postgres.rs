//! The PostgreSQL backend: `--database-url postgres://...`.
//!
//! Plain SQL without advisory locks, so PostgreSQL-protocol distributed engines fit;
//! row locks (`FOR UPDATE`) serialise actions on one person's cards, and a partial
//! unique index backs the one-live-card rule.

use crate::Db;
use crate::migrate::Migration;
use crate::{Dialect, PoolSettings, SqlStore};
use sqlx::{AssertSqlSafe, Connection};
use std::time::Duration;

/// The schema, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "card_office", sql: include_str!("../migrations/postgres/0001_card_office.sql") },
    Migration { version: 2, name: "ecard", sql: include_str!("../migrations/postgres/0002_ecard.sql") },
    Migration { version: 3, name: "onecard", sql: include_str!("../migrations/postgres/0003_onecard.sql") },
    Migration {
        version: 4,
        name: "library_policies",
        sql: include_str!("../migrations/postgres/0004_library_policies.sql"),
    },
    Migration { version: 5, name: "account_slots", sql: include_str!("../migrations/postgres/0005_account_slots.sql") },
    Migration {
        version: 6,
        name: "lighter_hot_path",
        sql: include_str!("../migrations/postgres/0006_lighter_hot_path.sql"),
    },
    Migration {
        version: 7,
        name: "unique_bin_pan",
        sql: include_str!("../migrations/postgres/0007_unique_bin_pan.sql"),
    },
    Migration { version: 8, name: "person_reads", sql: include_str!("../migrations/postgres/0008_person_reads.sql") },
    Migration {
        version: 9,
        name: "personal_data_at_rest",
        sql: include_str!("../migrations/postgres/0009_personal_data_at_rest.sql"),
    },
    Migration { version: 10, name: "cash_floats", sql: include_str!("../migrations/postgres/0010_cash_floats.sql") },
    Migration { version: 11, name: "benefits", sql: include_str!("../migrations/postgres/0011_benefits.sql") },
    Migration {
        version: 12,
        name: "application_reasons",
        sql: include_str!("../migrations/postgres/0012_application_reasons.sql"),
    },
    Migration {
        version: 13,
        name: "bank_statuses",
        sql: include_str!("../migrations/postgres/0013_bank_statuses.sql"),
    },
    Migration {
        version: 14,
        name: "benefits_at_rest",
        sql: include_str!("../migrations/postgres/0014_benefits_at_rest.sql"),
    },
    Migration { version: 15, name: "user_branch", sql: include_str!("../migrations/postgres/0015_user_branch.sql") },
    Migration { version: 16, name: "nation_relay", sql: include_str!("../migrations/postgres/0016_nation_relay.sql") },
    Migration { version: 17, name: "hub", sql: include_str!("../migrations/postgres/0017_hub.sql") },
    Migration {
        version: 18,
        name: "awaiting_remote_stop",
        sql: include_str!("../migrations/postgres/0018_awaiting_remote_stop.sql"),
    },
    Migration {
        version: 19,
        name: "paid_person_first",
        sql: include_str!("../migrations/postgres/0019_paid_person_first.sql"),
    },
    Migration { version: 20, name: "hub_forward", sql: include_str!("../migrations/postgres/0020_hub_forward.sql") },
    Migration {
        version: 21,
        name: "nation_medical",
        sql: include_str!("../migrations/postgres/0021_nation_medical.sql"),
    },
    Migration {
        version: 22,
        name: "key_id_ranges",
        sql: include_str!("../migrations/postgres/0022_key_id_ranges.sql"),
    },
    Migration {
        version: 25,
        name: "line_ssn_index",
        sql: include_str!("../migrations/postgres/0025_line_ssn_index.sql"),
    },
    Migration { version: 27, name: "visitors", sql: include_str!("../migrations/postgres/0027_visitors.sql") },
    Migration {
        version: 28,
        name: "narrow_status_indexes",
        sql: include_str!("../migrations/postgres/0028_narrow_status_indexes.sql"),
    },
    Migration {
        version: 29,
        name: "lines_decided_in_place",
        sql: include_str!("../migrations/postgres/0029_lines_decided_in_place.sql"),
    },
];

/// Opens the database at a `postgres://` URL, migrates it and seals any personal data still
/// in clear with `keys`.
pub async fn open(url: &str, keys: crate::DataKeys) -> sscard_store::Result<SqlStore> {
    let settings = PoolSettings { max_connections: 16, acquire_timeout: Duration::from_secs(30), on_connect: "" };
    SqlStore::open(url, Dialect::Postgres, settings, MIGRATIONS, keys).await
}

/// The server tests connect to for creating their own databases.
pub fn admin_url() -> String {
    std::env::var("SSCARD_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database of its own for one test or benchmark, dropped when this value is dropped.
pub struct TempDatabase {
    pub name: String,
    admin: String,
}

impl TempDatabase {
    /// Creates `sscard_test_<uuid>` on the server of [`admin_url`].
    pub async fn create() -> sscard_store::Result<Self> {
        let admin = admin_url();
        let name = format!("sscard_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.db()?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.db()?;
        conn.close().await.db()?;
        Ok(TempDatabase { name, admin })
    }
    pub fn url(&self) -> String {
        match self.admin.rfind('/') {
            Some(i) => format!("{}/{}", &self.admin[..i], self.name),
            None => self.admin.clone(),
        }
    }
    /// Drops the database (also attempted on drop, best effort).
    pub async fn drop_now(&self) -> sscard_store::Result<()> {
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.db()?;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await
            .db()?;
        conn.close().await.db()?;
        Ok(())
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // Drop from a plain thread with its own runtime-free blocking client is not available;
        // run a tiny current-thread runtime only if we are not inside one.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio_rt() else { return };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

fn tokio_rt() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}
