//! The live e-card set on a real backend: commits evict the persons their events name, a
//! fill that raced with a change is dropped, and the outbox tail names changed persons.

use super::fixtures::*;
use sscard_app::live::LiveEcards;
use sscard_domain::card::CardAction;
use sscard_store::Store;
use std::sync::Arc;

pub async fn live_set_follows_commits(store: Arc<dyn Store>) {
    let live = Arc::new(LiveEcards::default());
    assert!(store.observe_commits(live.clone()), "SQL stores report their commits");
    let store = &*store;
    seed(store).await;
    let (person, other) = (register(store, 1).await, register(store, 2).await);
    let card = active_card(store, &person).await;
    active_card(store, &other).await;
    let staff = ctx(clerk());
    let ecard = sscard_app::ecard::of_person(store, &staff, &person.id).await.expect("e-card issued at activation");
    let other_ecard = sscard_app::ecard::of_person(store, &staff, &other.id).await.expect("e-card");
    let verdict = |id: String| {
        let live = live.clone();
        let staff = staff.clone();
        async move { sscard_app::ecard::verify_live(store, &live, &staff, &id).await.expect("verify runs").map(|_| ()) }
    };

    // Read through once, then held.
    assert_eq!(verdict(ecard.id.clone()).await, Ok(()));
    assert_eq!(verdict(other_ecard.id.clone()).await, Ok(()));
    assert_eq!(live.len(), 2);
    assert!(live.get(&ecard.id).is_some());
    let (_, cursor) = sscard_app::ecard::persons_changed_after(store, None).await.expect("head");

    // A committed change evicts that person only, and the next verdict sees it at once.
    act(store, &ctx(admin()), card.card_no.as_str(), CardAction::Suspend, Default::default()).await;
    assert!(live.get(&ecard.id).is_none(), "the suspended holder's e-card was evicted on commit");
    assert!(live.get(&other_ecard.id).is_some(), "others stay held");
    assert_eq!(verdict(ecard.id.clone()).await, Err("card_suspended"));

    // A fill read before a change must not come back after the change evicted it.
    live.clear();
    let before = live.generation();
    let stale = Arc::new(store.ecard_with_card(&ecard.id).await.expect("read").expect("found"));
    act(store, &ctx(admin()), card.card_no.as_str(), CardAction::Unsuspend, Default::default()).await;
    assert!(!live.put(before, stale), "a fill older than an eviction is dropped");
    assert!(live.get(&ecard.id).is_none());
    assert_eq!(verdict(ecard.id.clone()).await, Ok(()));

    // The outbox tail (for changes made by other processes) names the changed persons once.
    // (PostgreSQL shows an event once every older transaction of its database has ended, so
    // another test's open transaction may hold it back for a moment.)
    let mut tail = (Vec::new(), cursor);
    for _ in 0..100 {
        tail = sscard_app::ecard::persons_changed_after(store, Some(cursor)).await.expect("tail");
        if tail.0.contains(&person.id) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (persons, next) = tail;
    assert!(persons.contains(&person.id), "{persons:?}");
    assert!(next > cursor);
    let (none, same) = sscard_app::ecard::persons_changed_after(store, Some(next)).await.expect("tail");
    assert!(none.is_empty());
    assert_eq!(same, next);
}
