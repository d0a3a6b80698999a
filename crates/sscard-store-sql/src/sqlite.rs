//! The SQLite backend: the default `sqlite://sscard.db`, needing nothing installed.
//!
//! WAL journal, `synchronous=FULL` (every commit is on disk when it returns), a busy
//! timeout so the CLI and the server can share the file, foreign keys on.

use crate::migrate::Migration;
use crate::{Dialect, PoolSettings, SqlStore};
use std::time::Duration;

/// The embedded schema, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "card_office", sql: include_str!("../migrations/sqlite/0001_card_office.sql") },
    Migration { version: 2, name: "ecard", sql: include_str!("../migrations/sqlite/0002_ecard.sql") },
    Migration { version: 3, name: "onecard", sql: include_str!("../migrations/sqlite/0003_onecard.sql") },
    Migration {
        version: 4,
        name: "library_policies",
        sql: include_str!("../migrations/sqlite/0004_library_policies.sql"),
    },
    Migration { version: 5, name: "account_slots", sql: include_str!("../migrations/sqlite/0005_account_slots.sql") },
    Migration {
        version: 6,
        name: "lighter_hot_path",
        sql: include_str!("../migrations/sqlite/0006_lighter_hot_path.sql"),
    },
    Migration { version: 7, name: "unique_bin_pan", sql: include_str!("../migrations/sqlite/0007_unique_bin_pan.sql") },
    Migration { version: 8, name: "person_reads", sql: include_str!("../migrations/sqlite/0008_person_reads.sql") },
    Migration {
        version: 9,
        name: "personal_data_at_rest",
        sql: include_str!("../migrations/sqlite/0009_personal_data_at_rest.sql"),
    },
    Migration { version: 10, name: "cash_floats", sql: include_str!("../migrations/sqlite/0010_cash_floats.sql") },
    Migration { version: 11, name: "benefits", sql: include_str!("../migrations/sqlite/0011_benefits.sql") },
    Migration {
        version: 12,
        name: "application_reasons",
        sql: include_str!("../migrations/sqlite/0012_application_reasons.sql"),
    },
    Migration { version: 13, name: "bank_statuses", sql: include_str!("../migrations/sqlite/0013_bank_statuses.sql") },
    Migration {
        version: 14,
        name: "benefits_at_rest",
        sql: include_str!("../migrations/sqlite/0014_benefits_at_rest.sql"),
    },
    Migration { version: 15, name: "user_branch", sql: include_str!("../migrations/sqlite/0015_user_branch.sql") },
    Migration { version: 16, name: "nation_relay", sql: include_str!("../migrations/sqlite/0016_nation_relay.sql") },
    Migration { version: 17, name: "hub", sql: include_str!("../migrations/sqlite/0017_hub.sql") },
    Migration {
        version: 18,
        name: "awaiting_remote_stop",
        sql: include_str!("../migrations/sqlite/0018_awaiting_remote_stop.sql"),
    },
    Migration {
        version: 19,
        name: "paid_person_first",
        sql: include_str!("../migrations/sqlite/0019_paid_person_first.sql"),
    },
    Migration { version: 20, name: "hub_forward", sql: include_str!("../migrations/sqlite/0020_hub_forward.sql") },
    Migration {
        version: 21,
        name: "nation_medical",
        sql: include_str!("../migrations/sqlite/0021_nation_medical.sql"),
    },
    Migration { version: 22, name: "key_id_ranges", sql: include_str!("../migrations/sqlite/0022_key_id_ranges.sql") },
    Migration {
        version: 25,
        name: "line_ssn_index",
        sql: include_str!("../migrations/sqlite/0025_line_ssn_index.sql"),
    },
    Migration { version: 27, name: "visitors", sql: include_str!("../migrations/sqlite/0027_visitors.sql") },
    Migration {
        version: 28,
        name: "narrow_status_indexes",
        sql: include_str!("../migrations/sqlite/0028_narrow_status_indexes.sql"),
    },
    Migration {
        version: 29,
        name: "lines_decided_in_place",
        sql: include_str!("../migrations/sqlite/0029_lines_decided_in_place.sql"),
    },
];

const PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// Opens (creating if needed) the database at a `sqlite://PATH` URL, migrates it and seals
/// any personal data still in clear with `keys`.
pub async fn open(url: &str, keys: crate::DataKeys) -> sscard_store::Result<SqlStore> {
    let url = with_create_mode(url);
    let settings = PoolSettings { max_connections: 8, acquire_timeout: Duration::from_secs(30), on_connect: PRAGMAS };
    SqlStore::open(&url, Dialect::Sqlite, settings, MIGRATIONS, keys).await
}

/// Adds `mode=rwc` so a missing file is created, unless the URL already chose a mode.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A fresh database file in the system temp dir, for tests and benchmarks; removed on drop.
pub struct TempDatabase {
    pub path: std::path::PathBuf,
}

impl TempDatabase {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("sscard-test-{}.db", uuid::Uuid::now_v7()));
        TempDatabase { path }
    }
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Default for TempDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}
