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

/// The relay's read of the outbox (`events_for_relay`, packed on SQLite) answers exactly what
/// `events_after` answers: every field, payloads of any shape, in order, from any cursor, with
/// any limit, and nothing past the end.
pub async fn relay_reads_the_outbox_as_events_after(store: Arc<dyn Store>) {
    use serde_json::json;
    let s = &*store;
    let payloads = [
        json!({}),
        json!({ "reason": "moved", "remote_stop_id": "0193-ab", "for_deployment": "XM" }),
        json!({ "name": "林迁 \"quoted\" \\ back\nslash", "n": 12345678901_i64, "x": 1.5, "ok": true, "none": null }),
        json!({ "nested": { "list": [1, "two", { "three": [] }] }, "empty": "" }),
        json!([1, 2, 3]),
    ];
    let mut tx = s.write().await.expect("write");
    for i in 0..40 {
        let e = sscard_store::model::NewEvent {
            at_ms: 1_700_000_000_000 + i,
            kind: format!("card.kind_{i}"),
            entity: "card",
            entity_id: format!("C{i}"),
            person_id: if i % 3 == 0 { String::new() } else { format!("P{i}") },
            region: "350203".into(),
            payload: payloads[i as usize % payloads.len()].clone(),
        };
        tx.append_event(&e).await.expect("append");
    }
    tx.commit().await.expect("commit");
    // PostgreSQL shows a commit to outbox readers once no older transaction of its database runs.
    for _ in 0..200 {
        let mut tx = s.read().await.expect("read");
        let n = tx.events_after(0, 100).await.expect("events").len();
        tx.commit().await.expect("commit");
        if n == 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut tx = s.read().await.expect("read");
    let all = tx.events_after(0, 100).await.expect("events");
    assert_eq!(all.len(), 40);
    for (after, limit) in [(0, 100), (0, 1), (all[6].seq, 7), (all[38].seq, 10), (all[39].seq, 10)] {
        let plain = tx.events_after(after, limit).await.expect("events_after");
        let relayed = tx.events_for_relay(after, limit).await.expect("events_for_relay");
        assert_eq!(relayed, plain, "after {after}, at most {limit}");
    }
    assert!(tx.events_for_relay(all[39].seq, 10).await.expect("past the end").is_empty());
    tx.commit().await.expect("commit");
}
