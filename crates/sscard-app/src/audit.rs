//! The audit chain: records are written in the business transaction without a chain
//! head, then sealed in order by one sealer (SM3 over the previous hash and the record),
//! so writers never queue on a single row. `verify` walks the chain and names the first
//! broken link.

use serde::{Deserialize, Serialize};
use sscard_store::Result;
use sscard_store::model::AuditRow;
use sscard_store::tx::Store;

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Rows sealed per transaction.
const SEAL_BATCH: u32 = 2000;
/// Rows read per query while verifying.
const VERIFY_BATCH: u32 = 5000;

/// SM3(prev_hash || the record's fields), hex.
pub fn link_hash(prev_hash: &str, row: &AuditRow) -> String {
    let mut h = sscard_gm::sm3::Sm3Hasher::new();
    h.update(prev_hash.as_bytes());
    for field in [
        row.seq.to_string(),
        row.at_ms.to_string(),
        row.actor.clone(),
        row.action.clone(),
        row.entity.clone(),
        row.entity_id.clone(),
        row.detail.clone(),
    ] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Seals every unsealed record into the chain; returns how many were sealed.
pub async fn seal(store: &dyn Store) -> Result<u64> {
    let mut sealed = 0u64;
    // Bounded: at most 1,000 batches per call; the scheduler calls again.
    for _ in 0..1000 {
        let mut tx = store.write().await?;
        let (mut pos, mut head) = tx.lock_audit_head().await?;
        let rows = tx.unsealed_audit(SEAL_BATCH).await?;
        if rows.is_empty() {
            return Ok(sealed);
        }
        for row in &rows {
            pos += 1;
            let hash = link_hash(&head, row);
            tx.seal_audit(row.seq, pos, &head, &hash).await?;
            head = hash;
        }
        tx.set_audit_head(pos, &head).await?;
        tx.commit().await?;
        sealed += rows.len() as u64;
    }
    Ok(sealed)
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub chain_pos: i64,
    pub seq: i64,
    pub reason: String,
}

/// What `sscard audit verify` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub head_pos: i64,
    pub broken: Option<BrokenLink>,
}

/// Seals what is pending, then recomputes every link from the start.
pub async fn verify(store: &dyn Store) -> Result<VerifyReport> {
    seal(store).await?;
    let mut tx = store.read().await?;
    let (head_pos, head_hash) = tx.lock_audit_head().await?;
    let mut expected_pos = 0i64;
    let mut prev = GENESIS.to_string();
    let mut checked = 0u64;
    loop {
        let rows = tx.audit_chain(expected_pos, VERIFY_BATCH).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            expected_pos += 1;
            checked += 1;
            let broken = |reason: String| Some(BrokenLink { chain_pos: expected_pos, seq: row.seq, reason });
            let problem = if row.chain_pos != Some(expected_pos) {
                broken(format!(
                    "chain position {:?} found where {expected_pos} was expected: a record was removed",
                    row.chain_pos
                ))
            } else if row.prev_hash.as_deref() != Some(prev.as_str()) {
                broken("the link to the previous record was changed".to_string())
            } else if row.hash.as_deref() != Some(link_hash(&prev, &row).as_str()) {
                broken("the record was changed after it was sealed".to_string())
            } else {
                None
            };
            if problem.is_some() {
                tx.commit().await?;
                return Ok(VerifyReport { checked, head_pos, broken: problem });
            }
            prev = row.hash.clone().unwrap_or_default();
        }
    }
    tx.commit().await?;
    let broken = if expected_pos != head_pos || prev != head_hash {
        Some(BrokenLink {
            chain_pos: expected_pos,
            seq: 0,
            reason: format!("the chain ends at {expected_pos} but its head says {head_pos}: records were removed"),
        })
    } else {
        None
    };
    Ok(VerifyReport { checked, head_pos, broken })
}
