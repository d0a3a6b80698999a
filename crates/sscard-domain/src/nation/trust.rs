//! The national e-card trust list (DESIGN §7.1, docs/NATION.md): QR issuer key ids unique
//! in the nation, and what an e-card's own deployment says about it.
//!
//! The token's key id is 4 bytes (DESIGN §4, not to change), so uniqueness comes from
//! ranges: the hub numbers its deployments in the order they are registered (ordinal 1, 2,
//! …) and deployment N signs only with ids `N * 1_000_000 + 1 ..= (N + 1) * 1_000_000`. Ids
//! 1..=1_000_000 are nobody's range: they are what a deployment on its own numbers from, so
//! a key made before joining is never taken for another deployment's.

use crate::error::DomainError;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// Key ids each deployment has (a million rotations: never exhausted in practice).
pub const KEY_IDS_PER_DEPLOYMENT: u32 = 1_000_000;
/// The highest ordinal whose range still fits in a 4-byte key id (4293).
pub const MAX_ORDINAL: u32 = u32::MAX / KEY_IDS_PER_DEPLOYMENT - 1;

/// The key ids one deployment signs with, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyIdRange {
    pub first: u32,
    pub last: u32,
}

impl KeyIdRange {
    /// The range of the deployment with this ordinal (1 for the first registered).
    pub fn of_ordinal(ordinal: u32) -> Result<Self, DomainError> {
        if ordinal == 0 || ordinal > MAX_ORDINAL {
            return Err(DomainError::refused(
                "no_key_ids_left",
                format!("deployment ordinal {ordinal} has no key id range (1..={MAX_ORDINAL})"),
            ));
        }
        let first = ordinal * KEY_IDS_PER_DEPLOYMENT + 1;
        Ok(KeyIdRange { first, last: first - 1 + KEY_IDS_PER_DEPLOYMENT })
    }

    /// A range as the hub announced it: one deployment's whole block, outside ids 1..=1_000_000.
    pub fn parse(first: u32, last: u32) -> Result<Self, DomainError> {
        let ordinal = first.saturating_sub(1) / KEY_IDS_PER_DEPLOYMENT;
        match Self::of_ordinal(ordinal) {
            Ok(r) if r.first == first && r.last == last => Ok(r),
            _ => Err(DomainError::invalid(
                "bad_key_ids",
                "first",
                format!("a key id range is N*{KEY_IDS_PER_DEPLOYMENT}+1..=(N+1)*{KEY_IDS_PER_DEPLOYMENT}"),
            )),
        }
    }

    pub fn contains(&self, key_id: u32) -> bool {
        (self.first..=self.last).contains(&key_id)
    }
}

/// The id of a new issuer key. On its own (`None`) a deployment numbers on from its highest
/// id; in the nation, from its highest id inside its range, starting at the range's first.
pub fn next_key_id(existing: &[u32], range: Option<KeyIdRange>) -> Result<u32, DomainError> {
    let exhausted = || DomainError::refused("key_ids_exhausted", "no issuer key id is left");
    match range {
        None => existing.iter().copied().max().unwrap_or(0).checked_add(1).ok_or_else(exhausted),
        Some(r) => match existing.iter().copied().filter(|id| r.contains(*id)).max() {
            None => Ok(r.first),
            Some(id) if id < r.last => Ok(id + 1),
            Some(_) => Err(exhausted()),
        },
    }
}

/// The hub takes a published key only inside the publishing deployment's range (409 otherwise,
/// whoever holds the id: a key id names one deployment's key everywhere in the nation).
pub fn check_published(range: KeyIdRange, deployment: &str, key_id: u32) -> Result<(), DomainError> {
    if range.contains(key_id) {
        return Ok(());
    }
    Err(DomainError::conflict(
        "key_id_out_of_range",
        format!("key id {key_id} is outside deployment {deployment}'s key ids {}..={}", range.first, range.last),
        None,
    ))
}

/// The live verdict on another deployment's e-card from that deployment's answer
/// (`ecard_status`): usable, or its reason; a reason this table does not know is `revoked`
/// (the e-card is refused either way, and nothing else is claimed).
pub fn remote_status(usable: bool, reason: Option<&str>) -> Result<(), Refusal> {
    if usable {
        return Ok(());
    }
    Err(reason.and_then(Refusal::parse).unwrap_or(Refusal::Revoked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_disjoint_blocks_after_the_standalone_ids() {
        let one = KeyIdRange::of_ordinal(1).expect("1");
        assert_eq!((one.first, one.last), (1_000_001, 2_000_000));
        let two = KeyIdRange::of_ordinal(2).expect("2");
        assert_eq!((two.first, two.last), (2_000_001, 3_000_000));
        assert!(!one.contains(1) && !one.contains(2_000_001) && one.contains(2_000_000));
        let top = KeyIdRange::of_ordinal(MAX_ORDINAL).expect("the last");
        assert_eq!(top.last, 4_294_000_000);
        assert_eq!(KeyIdRange::of_ordinal(0).map_err(|e| e.code), Err("no_key_ids_left"));
        assert_eq!(KeyIdRange::of_ordinal(MAX_ORDINAL + 1).map_err(|e| e.code), Err("no_key_ids_left"));
        assert_eq!(KeyIdRange::parse(2_000_001, 3_000_000), Ok(two));
        for (first, last) in [(1, 1_000_000), (2_000_001, 2_999_999), (2_000_000, 3_000_000), (0, 0)] {
            assert_eq!(KeyIdRange::parse(first, last).map_err(|e| e.code), Err("bad_key_ids"), "{first}..{last}");
        }
    }

    #[test]
    fn new_key_ids_follow_the_range_and_leave_older_keys_behind() {
        assert_eq!(next_key_id(&[], None), Ok(1));
        assert_eq!(next_key_id(&[1, 2, 7], None), Ok(8));
        assert_eq!(next_key_id(&[u32::MAX], None).map_err(|e| e.code), Err("key_ids_exhausted"));
        let r = KeyIdRange::of_ordinal(3).expect("3");
        // Keys made on its own (1, 2) stay outside: the first key in the nation opens the range.
        assert_eq!(next_key_id(&[1, 2], Some(r)), Ok(3_000_001));
        assert_eq!(next_key_id(&[1, 3_000_001, 3_000_002], Some(r)), Ok(3_000_003));
        // Another range's keys in the same database (never in practice) do not count.
        assert_eq!(next_key_id(&[9_000_000], Some(r)), Ok(3_000_001));
        assert_eq!(next_key_id(&[r.last], Some(r)).map_err(|e| e.code), Err("key_ids_exhausted"));
    }

    #[test]
    fn the_hub_takes_only_ids_of_the_publishers_range() {
        let r = KeyIdRange::of_ordinal(1).expect("1");
        assert!(check_published(r, "XM", 1_000_001).is_ok());
        let e = check_published(r, "XM", 1).expect_err("a standalone id");
        assert_eq!((e.code, e.kind), ("key_id_out_of_range", crate::error::ErrorKind::Conflict));
        assert!(e.message.contains("XM") && e.message.contains("1000001..=2000000"), "{}", e.message);
        assert!(check_published(r, "XM", 2_000_001).is_err());
    }

    #[test]
    fn another_deployments_answer_gives_the_precise_reason() {
        assert_eq!(remote_status(true, None), Ok(()));
        assert_eq!(remote_status(false, Some("card_suspended")), Err(Refusal::CardSuspended));
        assert_eq!(remote_status(false, Some("card_lost")), Err(Refusal::CardLost));
        assert_eq!(remote_status(false, None), Err(Refusal::Revoked));
        assert_eq!(remote_status(false, Some("something new")), Err(Refusal::Revoked));
    }
}
