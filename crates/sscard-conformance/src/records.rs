//! Cases 12-17: the audit chain, the outbox, idempotency records, access rules, the
//! overview counts, and rollback of failed operations.

use super::cards::produced_card;
use super::fixtures::*;
use sscard_app::audit::VerifyReport;
use sscard_app::cards::ActionInput;
use sscard_app::idem::Replay;
use sscard_app::persons::NewbornInput;
use sscard_app::{self};
use sscard_domain::application::{AppKind, AppStep, Channel};
use sscard_domain::card::{CardAction, CardStatus};
use sscard_domain::document::{DocType, Sex, Ssn};
use sscard_domain::error::ErrorKind;
use sscard_domain::person::{Person, RegistrationInput};
use sscard_store::model::{AuditRow, Idem, IdemOutcome, IdemRecord};
use sscard_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::date;

async fn verify(store: &dyn Store) -> VerifyReport {
    sscard_app::audit::verify(store).await.expect("audit verify runs")
}

async fn chain(store: &dyn Store) -> Vec<AuditRow> {
    let mut tx = store.read().await.expect("read");
    let rows = tx.audit_chain(0, 10_000).await.expect("audit chain");
    tx.commit().await.expect("commit");
    rows
}

async fn tamper(store: &dyn Store, sql: &str) {
    let mut tx = store.write().await.expect("write");
    assert_eq!(tx.execute_unchecked(sql).await.expect("tamper"), 1, "{sql}");
    tx.commit().await.expect("commit");
}

/// Some business: seed, a person with an active card (instant), then a suspension.
/// Returns the person and how many records (events, audit rows) were written.
async fn some_business(store: &dyn Store) -> (Person, usize) {
    seed(store).await;
    let person = register(store, 1).await;
    let card = active_card(store, &person).await;
    act(store, &ctx(holder(&person)), card.card_no.as_str(), CardAction::Suspend, ActionInput::default()).await;
    // bank x2, branch x3, person, 7 for the instant path, activation and the e-card it
    // issues, suspension and the e-card it stops
    (person, SEED_RECORDS + 1 + 7 + 2 + 2)
}

/// The chain verifies: no broken link, one checked link per record, and it grows.
pub async fn audit_chain_verifies(store: Arc<dyn Store>) {
    let store = &*store;
    let empty = verify(store).await;
    assert_eq!(empty, VerifyReport { checked: 0, head_pos: 0, broken: None });
    let (person, records) = some_business(store).await;
    let report = verify(store).await;
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, records as u64);
    assert_eq!(report.head_pos, records as i64);
    assert_eq!(row_count(store, Table::AuditLog).await, records as u64);
    assert_eq!(row_count(store, Table::Events).await, records as u64);
    let rows = chain(store).await;
    assert_eq!(rows.len(), records);
    let mut prev = sscard_app::audit::GENESIS.to_string();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.chain_pos, Some(i as i64 + 1));
        assert_eq!(row.prev_hash.as_deref(), Some(prev.as_str()));
        assert_eq!(row.hash.as_deref(), Some(sscard_app::audit::link_hash(&prev, row).as_str()));
        prev = row.hash.clone().unwrap_or_default();
    }
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        &actions[..6],
        ["bank.added", "bank.added", "branch.added", "branch.added", "branch.added", "person.registered"]
    );
    assert_eq!(rows[5].entity_id, person.id);
    assert_eq!(rows[5].actor, "clerk.xm");

    // More business, verified again: the new records extend the same chain.
    let other = register(store, 2).await;
    let report = verify(store).await;
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, records as u64 + 1);
    let rows = chain(store).await;
    assert_eq!(rows.last().map(|r| r.entity_id.as_str()), Some(other.id.as_str()));
    assert_eq!(verify(store).await, report, "verifying changes nothing");
}

/// A record edited after sealing is found at its place in the chain.
pub async fn audit_detects_an_edited_record(store: Arc<dyn Store>) {
    let store = &*store;
    let (_, records) = some_business(store).await;
    assert_eq!(verify(store).await.broken, None);
    let third = chain(store).await[2].clone();
    assert_eq!(third.seq, 3);
    tamper(store, &format!("UPDATE audit_log SET detail = '{{}}' WHERE seq = {}", third.seq)).await;
    let report = verify(store).await;
    let broken = report.broken.expect("the edit is detected");
    assert_eq!((broken.chain_pos, broken.seq), (3, third.seq));
    assert!(broken.reason.contains("changed"), "{}", broken.reason);
    assert_eq!(report.checked, 3);
    assert_eq!(report.head_pos, records as i64);
}

/// A record deleted from the middle of the chain is found.
pub async fn audit_detects_a_deleted_record(store: Arc<dyn Store>) {
    let store = &*store;
    let (_, records) = some_business(store).await;
    assert_eq!(verify(store).await.broken, None);
    let rows = chain(store).await;
    tamper(store, &format!("DELETE FROM audit_log WHERE seq = {}", rows[4].seq)).await;
    let report = verify(store).await;
    let broken = report.broken.expect("the deletion is detected");
    assert_eq!((broken.chain_pos, broken.seq), (5, rows[5].seq));
    assert!(broken.reason.contains("removed"), "{}", broken.reason);
    assert_eq!(report.head_pos, records as i64);
}

/// The last record deleted: the chain is shorter than its head says.
pub async fn audit_detects_a_removed_last_record(store: Arc<dyn Store>) {
    let store = &*store;
    let (_, records) = some_business(store).await;
    assert_eq!(verify(store).await.broken, None);
    let rows = chain(store).await;
    let last = rows.last().expect("records exist");
    tamper(store, &format!("DELETE FROM audit_log WHERE seq = {}", last.seq)).await;
    let report = verify(store).await;
    let broken = report.broken.expect("the truncation is detected");
    assert_eq!(broken.chain_pos, records as i64 - 1);
    assert!(broken.reason.contains("removed"), "{}", broken.reason);
}

/// events_after(0) lists every change in order; events_after(n) only later ones; limits hold.
pub async fn outbox_in_order(store: Arc<dyn Store>) {
    let store = &*store;
    let (person, records) = some_business(store).await;
    let events = all_events(store).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "bank.added",
            "bank.added",
            "branch.added",
            "branch.added",
            "branch.added",
            "person.registered",
            "application.submitted",
            "application.approved",
            "application.in_production",
            "card.produced",
            "application.ready_for_pickup",
            "card.issued",
            "application.collected",
            "card.activated",
            "ecard.issued",
            "card.suspended",
            "ecard.stopped",
        ]
    );
    assert_eq!(events.len(), records);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "sequence numbers increase");
    let suspended = &events[records - 2];
    assert_eq!(suspended.entity, "card");
    assert_eq!(suspended.person_id, person.id);
    assert_eq!(suspended.region, REGION);
    assert_eq!(suspended.at_ms, base_ms());
    assert_eq!(suspended.payload["from"], "active");
    assert_eq!(suspended.payload["to"], "suspended");
    assert_eq!(events[5].entity, "person");
    assert_eq!(events[5].entity_id, person.id);

    let cursor = events[5].seq;
    let later = events_after(store, cursor, 10_000).await;
    assert_eq!(later, events[6..].to_vec(), "only events after the cursor");
    assert_eq!(events_after(store, 0, 4).await, events[..4].to_vec(), "the limit holds");
    assert_eq!(events_after(store, events[3].seq, 4).await, events[4..8].to_vec(), "paging with the last seq seen");
    let last = events[records - 1].seq;
    assert!(events_after(store, last, 100).await.is_empty());

    // A new change appears after the cursor.
    let card_no = cards_of(store, &person.id).await[0].card_no.clone();
    act(store, &ctx(holder(&person)), card_no.as_str(), CardAction::Unsuspend, ActionInput::default()).await;
    let mut newer = Vec::new();
    for _ in 0..200 {
        newer = events_after(store, last, 100).await;
        if !newer.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // On PostgreSQL both rows of one transaction become visible together.
    assert_eq!(newer.len(), 2);
    assert_eq!(newer[0].kind, "card.unsuspended");
    assert_eq!(newer[1].kind, "ecard.restored");
    assert!(newer[0].seq > last);
}

fn idem(scope: &str, key: &str, hash: &str) -> Idem {
    Idem { scope: scope.to_string(), key: key.to_string(), request_hash: hash.to_string() }
}

/// put/get, duplicates, replay of the same request and refusal of a different one; an
/// operation stores its answer with its change, and a failed one stores nothing.
pub async fn idempotency_records(store: Arc<dyn Store>) {
    let store = &*store;
    let hash_a = sscard_app::idem::request_hash("POST", "/api/v1/persons", b"{\"a\":1}");
    let hash_b = sscard_app::idem::request_hash("POST", "/api/v1/persons", b"{\"a\":2}");
    assert_ne!(hash_a, hash_b);
    let record = IdemRecord {
        scope: "user:clerk.xm".to_string(),
        key: "key-1".to_string(),
        request_hash: hash_a.clone(),
        outcome: IdemOutcome::Typed("{\"id\":\"p1\"}".to_string()),
        created_at_ms: base_ms(),
    };
    let mut tx = store.write().await.expect("write");
    tx.put_idempotency(&record).await.expect("put");
    tx.commit().await.expect("commit");
    let mut tx = store.read().await.expect("read");
    let got = tx.get_idempotency("user:clerk.xm", "key-1").await.expect("get");
    let missing = tx.get_idempotency("user:clerk.xm", "key-2").await.expect("get");
    let other_scope = tx.get_idempotency("user:admin", "key-1").await.expect("get");
    tx.commit().await.expect("commit");
    assert_eq!(got, Some(record.clone()));
    assert_eq!((missing, other_scope), (None, None));

    let mut tx = store.write().await.expect("write");
    let again =
        IdemRecord { request_hash: hash_b.clone(), outcome: IdemOutcome::Typed("other".to_string()), ..record.clone() };
    match tx.put_idempotency(&again).await {
        Err(StoreError::Duplicate { .. }) => {}
        other => panic!("the same scope and key twice is a duplicate, got {other:?}"),
    }
    drop(tx);
    let mut tx = store.write().await.expect("write");
    let elsewhere = IdemRecord { scope: "user:admin".to_string(), ..record.clone() };
    tx.put_idempotency(&elsewhere).await.expect("the same key in another scope");
    tx.commit().await.expect("commit");

    assert_eq!(
        sscard_app::idem::replay(store, &idem("user:clerk.xm", "key-1", &hash_a)).await.expect("replay"),
        Some(record.clone())
    );
    match sscard_app::idem::replay(store, &idem("user:clerk.xm", "key-1", &hash_b)).await {
        Err(StoreError::IdempotencyMismatch { key }) => assert_eq!(key, "key-1"),
        other => panic!("a different request under the key is refused, got {other:?}"),
    }
    assert_eq!(sscard_app::idem::replay(store, &idem("user:clerk.xm", "key-9", &hash_a)).await.expect("replay"), None);

    // Through an operation: the typed outcome is stored with the change; the caller renders it.
    let op_idem = idem("user:clerk.xm", "register-1", &hash_a);
    let c = ctx(clerk()).with_idem(Some(op_idem.clone()));
    let person = sscard_app::persons::register(store, &c, adult_input(1)).await.expect("register");
    let stored = sscard_app::idem::replay_outcome::<Person>(store, &op_idem).await.expect("replay");
    let Some(Replay::Typed(stored)) = stored else { panic!("the typed outcome is stored, got {stored:?}") };
    assert_eq!(stored.outcome, person, "the stored outcome reads back as the first one");
    assert_eq!(stored.at_ms, base_ms());
    let raw = sscard_app::idem::replay(store, &op_idem).await.expect("replay").expect("the record is stored");
    assert_eq!(raw.created_at_ms, base_ms());
    // A record whose outcome is not of the asked type is corrupt, not a silent default.
    match sscard_app::idem::replay_outcome::<Vec<u8>>(store, &op_idem).await {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("an outcome of another type is corrupt, got {other:?}"),
    }

    // A failed operation stores no answer.
    let failed_idem = idem("user:clerk.xm", "register-2", &hash_a);
    let c = ctx(clerk()).with_idem(Some(failed_idem.clone()));
    let before = row_count(store, Table::Idempotency).await;
    refusal(sscard_app::persons::register(store, &c, adult_input(1)).await, ErrorKind::Conflict, "person_exists");
    assert_eq!(sscard_app::idem::replay(store, &failed_idem).await.expect("replay"), None);
    assert_eq!(row_count(store, Table::Idempotency).await, before);
}

/// A record written before typed outcomes (its rendered body with a nonzero status) replays
/// as it was stored, whatever type the caller asks for; a new record writes status 0.
pub async fn legacy_idempotency_records_replay_as_stored(store: Arc<dyn Store>) {
    let store = &*store;
    let hash = sscard_app::idem::request_hash("POST", "/api/v1/persons", b"{\"a\":1}");
    let body = "{\"id\":\"p-old\",\"name\":\"Old answer\"}";
    // Written as an old version wrote it (a store converts rows of before its own format at
    // open, so the port is the way to put one in a running store).
    let mut tx = store.write().await.expect("write");
    tx.put_idempotency(&IdemRecord {
        scope: "user:clerk.xm".to_string(),
        key: "old-1".to_string(),
        request_hash: hash.clone(),
        outcome: IdemOutcome::Legacy { status: 201, body: body.to_string() },
        created_at_ms: base_ms(),
    })
    .await
    .expect("an old-style row");
    tx.commit().await.expect("commit");
    let old = idem("user:clerk.xm", "old-1", &hash);
    let raw = sscard_app::idem::replay(store, &old).await.expect("replay").expect("stored");
    assert_eq!(raw.outcome, IdemOutcome::Legacy { status: 201, body: body.to_string() });
    match sscard_app::idem::replay_outcome::<Person>(store, &old).await.expect("an old record is no corrupt one") {
        Some(Replay::Legacy { status, body: got }) => assert_eq!((status, got.as_str()), (201, body)),
        other => panic!("an old record replays as stored, got {other:?}"),
    }
    let other = sscard_app::idem::request_hash("POST", "/api/v1/persons", b"{\"a\":2}");
    match sscard_app::idem::replay(store, &idem("user:clerk.xm", "old-1", &other)).await {
        Err(StoreError::IdempotencyMismatch { .. }) => {}
        got => panic!("a different request under an old key is still refused, got {got:?}"),
    }
    // A new record is typed (status 0) and reads back typed.
    let new = idem("user:clerk.xm", "new-1", &hash);
    sscard_app::persons::register(store, &ctx(clerk()).with_idem(Some(new.clone())), adult_input(1))
        .await
        .expect("register");
    let raw = sscard_app::idem::replay(store, &new).await.expect("replay").expect("stored");
    assert!(matches!(raw.outcome, IdemOutcome::Typed(_)), "new records keep the typed outcome");
}

/// Tellers act only for their bank, holders only on their own cards; staff review.
pub async fn access_rules(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let alice = register(store, 1).await;
    let alice_card = active_card(store, &alice).await;
    let bob = register(store, 2).await;
    let bob_card = active_card(store, &bob).await;
    let carol = register(store, 3).await;
    let carol_app = apply(store, &ctx(teller(BANK)), &carol.id, branch_first()).await;
    let carol_app_id = carol_app.application.id.clone();

    let stranger = ctx(teller(OTHER_BANK));
    let as_bob = ctx(holder(&bob));
    let as_carol = ctx(holder(&carol));
    let before = row_counts(store).await;
    for s in AppStep::ALL {
        forbidden(sscard_app::applications::step(store, &stranger, &carol_app_id, *s).await);
    }
    forbidden(sscard_app::applications::get(store, &stranger, &carol_app_id).await);
    for action in CardAction::ALL {
        forbidden(try_act(store, &stranger, alice_card.card_no.as_str(), *action, full_input()).await);
        forbidden(try_act(store, &as_bob, alice_card.card_no.as_str(), *action, full_input()).await);
    }
    forbidden(try_get(store, &stranger, alice_card.card_no.as_str()).await);
    forbidden(try_get(store, &as_bob, alice_card.card_no.as_str()).await);
    forbidden(sscard_app::persons::get(store, &as_bob, &alice.id).await);
    forbidden(sscard_app::cards::of_person(store, &as_bob, &alice.id).await);
    forbidden(sscard_app::applications::get(store, &as_bob, &carol_app_id).await);
    for s in [AppStep::Approve, AppStep::Reject, AppStep::Produce, AppStep::Collect] {
        forbidden(sscard_app::applications::step(store, &as_carol, &carol_app_id, s).await);
    }
    forbidden(sscard_app::applications::step(store, &ctx(teller(BANK)), &carol_app_id, AppStep::Approve).await);
    forbidden(sscard_app::applications::apply(store, &stranger, &carol.id, branch_first()).await);
    forbidden(sscard_app::applications::apply(store, &as_bob, &carol.id, online_first()).await);
    forbidden(sscard_app::persons::register(store, &as_bob, adult_input(9)).await);
    forbidden(sscard_app::admin::overview(store, &ctx(teller(BANK))).await);
    forbidden(try_act(store, &as_bob, bob_card.card_no.as_str(), CardAction::Stop, full_input()).await);
    forbidden(try_act(store, &ctx(teller(BANK)), bob_card.card_no.as_str(), CardAction::Stop, full_input()).await);
    assert_eq!(row_counts(store).await, before, "forbidden calls change nothing");
    assert_eq!(get_card(store, alice_card.card_no.as_str()).await, alice_card);

    // What each may do.
    let mine = act(store, &as_bob, bob_card.card_no.as_str(), CardAction::Suspend, ActionInput::default()).await;
    assert_eq!(mine.status, CardStatus::Suspended);
    assert_eq!(
        try_get(store, &as_bob, bob_card.card_no.as_str()).await.expect("a holder sees their card").status,
        CardStatus::Suspended
    );
    let seen = sscard_app::applications::get(store, &as_carol, &carol_app_id)
        .await
        .expect("a holder follows their application");
    assert_eq!(seen.application.id, carol_app_id);
    step(store, &ctx(clerk()), &carol_app_id, AppStep::Approve).await;
    let produced = step(store, &ctx(teller(BANK)), &carol_app_id, AppStep::Produce).await;
    assert_eq!(produced.application.status, sscard_domain::application::AppStatus::InProduction);
    // A teller sees only their bank's cards of a person.
    let bank_view =
        sscard_app::cards::of_person(store, &stranger, &alice.id).await.expect("a teller may look a person up");
    assert!(bank_view.is_empty(), "another bank's teller sees none of ICBC's cards");
    let own_view = sscard_app::cards::of_person(store, &ctx(teller(BANK)), &alice.id).await.expect("readable");
    assert_eq!(own_view.len(), 1);
    // Holders list only their own applications.
    let listed = sscard_app::applications::list(store, &as_carol, Default::default()).await.expect("list");
    assert!(listed.iter().all(|a| a.person_id == carol.id) && listed.len() == 1);
}

fn counts(list: &[sscard_store::model::Count]) -> BTreeMap<String, i64> {
    list.iter().map(|c| (c.key.clone(), c.count)).collect()
}

fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The overview counts what was created: persons, cards and applications by their keys.
pub async fn overview_counts(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    assert_eq!(overview(store).await, Default::default());
    let admin_ctx = ctx(admin());
    let desk = ctx(teller(BANK));
    // 1: instant at ICBC, active.
    let p1 = register(store, 1).await;
    active_card(store, &p1).await;
    // 2: branch at ICBC, card produced and waiting.
    produced_card(store, &register(store, 2).await).await;
    // 3: online at CCB, submitted.
    let p3 = register(store, 3).await;
    apply(
        store,
        &ctx(holder(&p3)),
        &p3.id,
        app_input(AppKind::First, Channel::Online, OTHER_BANK, None, Some(MAIL_ADDRESS), None),
    )
    .await;
    // 4: an imported second-generation CCB card.
    sscard_app::import::import_row(
        store,
        &admin_ctx,
        &super::applications::second_generation_row(4, "Z00000004", OTHER_BANK),
    )
    .await
    .expect("import");
    // 5: kiosk at ICBC, issued.
    let p5 = register(store, 5).await;
    apply(store, &desk, &p5.id, app_input(AppKind::First, Channel::Kiosk, BANK, Some(PRINTER_BRANCH), None, None))
        .await;
    // 6: registered only. 7: a withdrawn branch application.
    register(store, 6).await;
    let p7 = register(store, 7).await;
    let withdrawn = apply(store, &desk, &p7.id, branch_first()).await;
    step(store, &ctx(holder(&p7)), &withdrawn.application.id, AppStep::Withdraw).await;

    let o = overview(store).await;
    assert_eq!(o.persons, 7);
    assert_eq!(
        counts(&o.applications_by_channel),
        map(&[("branch", 2), ("branch_instant", 1), ("kiosk", 1), ("online", 1)])
    );
    assert_eq!(
        counts(&o.applications_by_status),
        map(&[("collected", 2), ("ready_for_pickup", 1), ("submitted", 1), ("withdrawn", 1)])
    );
    assert_eq!(counts(&o.cards_by_status), map(&[("active", 2), ("issued", 1), ("produced", 1)]));
    assert_eq!(counts(&o.cards_by_generation), map(&[("2", 1), ("3", 3)]));
    assert_eq!(counts(&o.cards_by_bank), map(&[("CCB", 1), ("ICBC", 3)]));
    let bank_keys: Vec<&str> = o.cards_by_bank.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(bank_keys, ["CCB", "ICBC"], "buckets are ordered by key");

    // The dashboard's trends: everything was submitted this week; two active cards, two e-cards.
    let trends = sscard_app::admin::trends(store, &admin_ctx, 12).await.expect("trends");
    assert_eq!((trends.cards_active, trends.ecards_usable), (2, 2));
    let this_week: BTreeMap<String, i64> =
        trends.by_channel.iter().map(|(c, v)| (c.clone(), *v.last().expect("12 weeks"))).collect();
    assert_eq!(this_week, map(&[("branch", 2), ("branch_instant", 1), ("kiosk", 1), ("online", 1)]));
    assert!(trends.by_channel.iter().all(|(_, v)| v.len() == 12 && v[..11].iter().all(|n| *n == 0)));
}

/// Failed operations, even those that fail after writing, leave no row, event or audit record.
pub async fn failed_operations_leave_no_trace(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let issued = issued_card(store, &person).await;
    let audit_before = verify(store).await;
    let before = row_counts(store).await;

    // Refused before any write.
    invalid(
        try_act(store, &ctx(holder(&person)), issued.card_no.as_str(), CardAction::Activate, ActionInput::default())
            .await,
        "pin_required",
        "pin",
    );
    // Refused after the person, its event and its audit record were written.
    let newborn = NewbornInput {
        child: RegistrationInput {
            guardian_id: Some(person.id.clone()),
            relationship_proof: Some("O350200260012345".to_string()),
            ..resident_input(&resident_number_born(date!(2026 - 02 - 20), 457), "新生儿")
        },
        bank_code: bank_code("NOBANK"),
        branch_code: None,
        mail_address: None,
    };
    invalid(sscard_app::persons::register_newborn(store, &ctx(clerk()), newborn).await, "unknown_bank", "bank_code");
    assert_eq!(row_counts(store).await, before, "nothing stays");
    let audit_after = verify(store).await;
    assert_eq!(audit_after, audit_before, "no audit record");
    assert_eq!(all_events(store).await.len() as u64, before.events, "no event");
    assert_eq!(get_card(store, issued.card_no.as_str()).await, issued);

    // A counter moved inside a failed transaction moves back: a passport registered twice
    // (the second fails on the document after drawing an SSN) leaves serial 2 for the next.
    let passport = |number: &str| RegistrationInput {
        doc_type: DocType::Passport,
        doc_number: number.to_string(),
        sex: Some(Sex::Female),
        birth_date: Some(date!(1988 - 02 - 29)),
        ..resident_input(number, "Jane Doe")
    };
    let first = register_input(store, passport("E12345678")).await;
    assert_eq!(first.ssn, Ssn::assigned(region(), 1));
    refusal(
        sscard_app::persons::register(store, &ctx(clerk()), passport("E12345678")).await,
        ErrorKind::Conflict,
        "person_exists",
    );
    let second = register_input(store, passport("E87654321")).await;
    assert_eq!(second.ssn, Ssn::assigned(region(), 2));
}

/// A desk finds a person by the SSN, by the resident ID number, or by a passport number.
pub async fn find_by_any_document_number(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let resident = register(store, 1).await;
    let passport = register_input(
        store,
        RegistrationInput {
            doc_type: DocType::Passport,
            doc_number: "E12345678".to_string(),
            name: "Test Passport".to_string(),
            sex: Some(Sex::Female),
            birth_date: Some(date!(1988 - 02 - 29)),
            region: region(),
            guardian_id: None,
            relationship_proof: None,
        },
    )
    .await;
    let desk = ctx(teller(BANK));
    let by_id = try_find_by_number(store, &desk, resident.doc_number.as_str()).await.expect("resident").person;
    assert_eq!(by_id.id, resident.id);
    let by_passport = try_find_by_number(store, &desk, " e12345678 ").await.expect("passport").person;
    assert_eq!(by_passport.id, passport.id);
    let by_ssn = try_find_by_number(store, &desk, passport.ssn.as_str()).await.expect("assigned SSN").person;
    assert_eq!(by_ssn.id, passport.id);
    assert!(matches!(try_find_by_number(store, &desk, "X0000000").await, Err(StoreError::NotFound { .. })));
    let stranger = ctx(holder(&resident));
    forbidden(try_find_by_number(store, &stranger, "E12345678").await);
}
