//! Terminal secrets: an admin gives a terminal a new secret; the old one stops working.

use crate::fixtures::*;
use crate::onecard::{operators, terminal};
use sscard_app::onecard::terminals;
use sscard_domain::error::ErrorKind;
use sscard_store::{Store, StoreError};
use std::sync::Arc;

/// Rotation by an admin only; the new secret authenticates the same terminal, the old one
/// nothing; the change is recorded; an unknown terminal is 404.
pub async fn terminal_secret_rotation(store: Arc<dyn Store>) {
    let store = store.as_ref();
    operators(store).await;
    let created = terminal(store, "XM-BUS", "transit", REGION, &[]).await;
    let id = created.terminal.id.clone();

    let before = row_counts(store).await;
    for actor in [clerk(), teller(BANK)] {
        refusal(terminals::rotate_secret(store, &ctx(actor), &id).await, ErrorKind::Forbidden, "forbidden");
    }
    assert_eq!(row_counts(store).await, before, "a refused rotation writes nothing");

    let rotated = terminals::rotate_secret(store, &ctx(admin()), &id).await.expect("an admin rotates");
    assert_eq!(rotated.terminal.id, id);
    assert_ne!(rotated.secret, created.secret);
    assert!(rotated.secret.starts_with(terminals::SECRET_PREFIX));
    let old = terminals::authenticate(store, &created.secret).await.expect("readable");
    assert!(old.is_none(), "the old secret still authenticates {old:?}");
    let new = terminals::authenticate(store, &rotated.secret).await.expect("readable").expect("the new secret works");
    assert_eq!(new.id, id);
    assert!(event_kinds_of(store, &id).await.contains(&"terminal.secret_rotated".to_string()));

    match terminals::rotate_secret(store, &ctx(admin()), "T-none").await {
        Err(StoreError::NotFound { what: "terminal", .. }) => {}
        other => panic!("expected terminal not found, got {other:?}"),
    }
}
