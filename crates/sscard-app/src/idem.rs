//! Idempotent replays: a request repeated with the same Idempotency-Key gets the first answer.

use serde::de::DeserializeOwned;
use sscard_store::model::{Idem, IdemOutcome, IdemRecord};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// The longest Idempotency-Key accepted.
pub const MAX_KEY_LEN: usize = 128;

/// The first answer to this key, if any. A different request under the same key is refused.
pub async fn replay(store: &dyn Store, idem: &Idem) -> Result<Option<IdemRecord>> {
    let mut tx = store.read().await?;
    let found = tx.get_idempotency(&idem.scope, &idem.key).await?;
    tx.commit().await?;
    match found {
        Some(rec) if rec.request_hash != idem.request_hash => {
            Err(StoreError::IdempotencyMismatch { key: idem.key.clone() })
        }
        other => Ok(other),
    }
}

/// A first outcome found again under its Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed<T> {
    pub outcome: T,
    /// When the first request ran: render the replay as of then.
    pub at_ms: i64,
}

/// A first answer found again: the typed outcome, or a record written before typed outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay<T> {
    Typed(Replayed<T>),
    /// The HTTP status and body answered then, to be sent again as they are.
    Legacy {
        status: u16,
        body: String,
    },
}

/// The first outcome to this key, typed, if any (or the stored answer of a legacy record). A
/// different request under the same key is refused; a stored outcome that does not read back
/// as `T` is a corrupt record.
pub async fn replay_outcome<T: DeserializeOwned>(store: &dyn Store, idem: &Idem) -> Result<Option<Replay<T>>> {
    let Some(rec) = replay(store, idem).await? else { return Ok(None) };
    let json = match rec.outcome {
        IdemOutcome::Typed(json) => json,
        IdemOutcome::Legacy { status, body } => return Ok(Some(Replay::Legacy { status, body })),
    };
    let outcome = serde_json::from_str(&json)
        .map_err(|e| StoreError::corrupt(format!("idempotency record {:?}: {e}", rec.key)))?;
    Ok(Some(Replay::Typed(Replayed { outcome, at_ms: rec.created_at_ms })))
}

/// SM3 over method, path and body: what "the same request" means.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = sscard_gm::sm3::Sm3Hasher::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}
