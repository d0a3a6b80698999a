//! The conformance suite on PostgreSQL: one database of its own per case, dropped at the
//! end. Without a server at `SSCARD_TEST_PG_URL` (default
//! postgres://postgres@127.0.0.1:5432/postgres) the cases are skipped with a message,
//! unless the environment variable CI is set: then they fail.

use sscard_conformance::Guard;
use sscard_store::Store;
use sscard_store_sql::postgres::TempDatabase;
use std::io::Write;
use std::sync::Arc;

async fn factory() -> Option<(Arc<dyn Store>, Guard)> {
    let db = match TempDatabase::create().await {
        Ok(db) => db,
        Err(e) if std::env::var_os("CI").is_none() => {
            // Written past the test harness's output capture, once, so a plain `cargo test` shows it.
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the PostgreSQL conformance cases: PostgreSQL at {} does not answer ({e}); \
                     start it, or set CI=1 to make this a failure",
                    sscard_store_sql::postgres::admin_url()
                );
            });
            return None;
        }
        Err(e) => {
            panic!("PostgreSQL at {} does not answer and CI is set: {e}", sscard_store_sql::postgres::admin_url())
        }
    };
    let store = sscard_store_sql::postgres::open(&db.url(), sscard_store_sql::DataKeys::ephemeral())
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.url()));
    let guard = Guard::with_cleanup(db, |db| async move {
        if let Err(e) = db.drop_now().await {
            eprintln!("could not drop test database {}: {e}", db.name);
        }
    });
    Some((Arc::new(store), guard))
}

sscard_conformance::conformance_tests!(factory);
