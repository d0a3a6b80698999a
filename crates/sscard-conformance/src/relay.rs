//! The nation's transport records (port `Inbox`, docs/NATION.md): a consumer applies a
//! message once, whatever the redeliveries, and a relay's cursor survives the process.

use sscard_store::Store;
use std::sync::Arc;

async fn first(store: &dyn Store, consumer: &str, msg_id: &str, commit: bool) -> bool {
    let mut tx = store.write().await.expect("write");
    let fresh = tx.first_delivery(consumer, msg_id, 1_000).await.expect("first_delivery");
    if commit {
        tx.commit().await.expect("commit");
    }
    fresh
}

async fn cursor(store: &dyn Store, name: &str) -> i64 {
    let mut tx = store.read().await.expect("read");
    let seq = tx.relay_cursor(name).await.expect("cursor");
    tx.commit().await.expect("commit");
    seq
}

async fn set_cursor(store: &dyn Store, name: &str, seq: i64) {
    let mut tx = store.write().await.expect("write");
    tx.set_relay_cursor(name, seq).await.expect("set cursor");
    tx.commit().await.expect("commit");
}

/// `first_delivery` is true once per (consumer, message), false on every redelivery, forgotten
/// with a rolled-back transaction, and one winner among concurrent deliveries; relay cursors
/// start at 0, move and persist per name.
pub async fn relay_cursors_and_first_delivery(store: Arc<dyn Store>) {
    let s = &*store;
    // A rolled-back effect leaves no record: the redelivery applies it.
    assert!(first(s, "hub-events", "XM:1", false).await);
    assert!(first(s, "hub-events", "XM:1", true).await);
    assert!(!first(s, "hub-events", "XM:1", true).await, "a redelivery is not a first delivery");
    assert!(!first(s, "hub-events", "XM:1", true).await);
    // Another message, and the same message to another consumer, are first deliveries.
    assert!(first(s, "hub-events", "XM:2", true).await);
    assert!(first(s, "commands-XM", "XM:1", true).await);

    let racers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { first(&*store, "hub-events", "FZ:7", true).await })
        })
        .collect();
    let mut winners = 0;
    for r in racers {
        winners += usize::from(r.await.expect("join"));
    }
    assert_eq!(winners, 1, "concurrent deliveries of one message: one applies it");

    assert_eq!(cursor(s, "events").await, 0, "a relay that never ran starts at 0");
    set_cursor(s, "events", 41).await;
    set_cursor(s, "events", 42).await;
    set_cursor(s, "hub-commands", 7).await;
    assert_eq!(cursor(s, "events").await, 42);
    assert_eq!(cursor(s, "hub-commands").await, 7);
    let mut tx = s.write().await.expect("write");
    tx.set_relay_cursor("events", 99).await.expect("set");
    drop(tx);
    assert_eq!(cursor(s, "events").await, 42, "a rolled-back cursor move is not kept");
}
