//! PostgreSQL only: a database's outbox feed is not held back by a long transaction of another
//! database on the same server. Transaction ids are the cluster's, and the feed shows an event
//! only once no older transaction that could still commit an earlier one runs; a transaction of
//! another database cannot, so it must not count (before, the feed waited for it).

use sqlx::Connection;
use sscard_store::Store;
use sscard_store::model::NewEvent;
use sscard_store_sql::postgres::TempDatabase;

/// A fresh database, or `None` (the case skipped) when no server answers outside CI.
async fn database() -> Option<TempDatabase> {
    match TempDatabase::create().await {
        Ok(db) => Some(db),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: PostgreSQL does not answer ({e})");
            None
        }
        Err(e) => panic!("PostgreSQL does not answer and CI is set: {e}"),
    }
}

#[tokio::test]
async fn another_databases_long_transaction_does_not_hold_the_feed_back() {
    let (Some(ours), Some(other)) = (database().await, database().await) else { return };
    let store = sscard_store_sql::postgres::open(&ours.url(), sscard_store_sql::DataKeys::ephemeral())
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", ours.url()));

    // In the other database, a transaction that has written (so it holds a transaction id)
    // and stays open while our event is committed after it.
    let mut conn = sqlx::PgConnection::connect(&other.url()).await.expect("connect to the other database");
    let mut held = conn.begin().await.expect("begin");
    sqlx::query("CREATE TABLE held (x INT)").execute(&mut *held).await.expect("write in the other database");

    let event = NewEvent {
        at_ms: 1_700_000_000_000,
        kind: "card.held_apart".into(),
        entity: "card",
        entity_id: "C1".into(),
        person_id: String::new(),
        region: "350203".into(),
        payload: serde_json::json!({}),
    };
    let mut tx = store.write().await.expect("write");
    tx.append_event(&event).await.expect("append");
    tx.commit().await.expect("commit");

    let mut tx = store.read().await.expect("read");
    let seen = tx.events_after(0, 100).await.expect("events");
    tx.commit().await.expect("commit");
    assert!(
        seen.iter().any(|e| e.kind == "card.held_apart"),
        "the event is in the feed while the other database's transaction still runs: {seen:?}"
    );

    held.rollback().await.expect("rollback");
    drop(conn);
    store.close().await;
    for db in [ours, other] {
        db.drop_now().await.unwrap_or_else(|e| eprintln!("could not drop {}: {e}", db.name));
    }
}
