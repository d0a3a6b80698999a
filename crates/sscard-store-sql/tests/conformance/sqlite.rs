//! The conformance suite on SQLite: one fresh database file per case.

use sscard_conformance::Guard;
use sscard_store::Store;
use std::sync::Arc;

async fn factory() -> Option<(Arc<dyn Store>, Guard)> {
    let db = sscard_store_sql::sqlite::TempDatabase::new();
    let store = sscard_store_sql::sqlite::open(&db.url(), sscard_store_sql::DataKeys::ephemeral())
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.url()));
    Some((Arc::new(store), Guard::keep(db)))
}

sscard_conformance::conformance_tests!(factory);
