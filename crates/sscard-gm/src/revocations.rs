//! The revocation set a terminal holds: the nation's revoked e-cards (tens of millions) in
//! about 9 bytes each, looked up in a binary search of a few hundred entries.
//!
//! E-card ids are 16 random bytes, so no exact set of 10 million of them can be small: just
//! naming which 10 million of the 2^128 ids are revoked takes about 106 bits each (133 MB).
//! The set therefore keeps an 88-bit **fingerprint** of each id (a bijective mix of the 128
//! bits, truncated), split as a 16-bit bucket number (an offset table of 65,537 `u32`, 256 KiB)
//! and a 9-byte rest, sorted: 10,000,000 ids take 90.3 MB. A valid e-card is refused by mistake
//! only if its fingerprint equals a revoked one's: with `n` revoked ids, a chance of
//! `n / 2^88` per check (3.2e-20 at ten million), never the other way round (a revoked id is
//! always found). The full ids stay where they came from (the terminal's sync file, the
//! server's feed); the set is built from them.
//!
//! Changes after the build (a revocation delta) go to two small overlays, folded into the
//! sorted table once they hold [`COMPACT_AT`] fingerprints, so a change costs a hash insert and
//! the rebuild (linear in the set) is paid rarely.

use std::collections::HashSet;

/// The overlays are folded into the sorted table once they hold this many fingerprints.
pub const COMPACT_AT: usize = 1 << 16;

/// Number of buckets: the fingerprint's first 16 bits.
const BUCKETS: usize = 1 << 16;

/// An 88-bit fingerprint: bucket (2 bytes) then rest (9 bytes), big-endian.
type Fingerprint = [u8; 11];

/// The 9 bytes kept per id in the sorted table.
type Rest = [u8; 9];

/// A bijection of the 128 bits (xor-shift and multiplication by odd constants, each
/// invertible), so ids that share a prefix or a pattern still spread over every bucket and
/// differ in their fingerprints like random ids do.
fn fingerprint(id: &[u8; 16]) -> Fingerprint {
    let mut x = u128::from_be_bytes(*id);
    x ^= x >> 64;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    x ^= x >> 61;
    x = x.wrapping_mul(0xC2B2_AE3D_27D4_EB4F_1656_67B1_9E37_79F9);
    x ^= x >> 64;
    let b = x.to_be_bytes();
    let mut fp = [0u8; 11];
    fp.copy_from_slice(&b[..11]);
    fp
}

fn split(fp: &Fingerprint) -> (usize, Rest) {
    let bucket = usize::from(u16::from_be_bytes([fp[0], fp[1]]));
    let mut rest = [0u8; 9];
    rest.copy_from_slice(&fp[2..]);
    (bucket, rest)
}

/// The revoked e-cards a verifier checks against. See the module documentation.
#[derive(Clone)]
pub struct RevocationSet {
    /// `rests[offsets[b]..offsets[b + 1]]` are bucket `b`'s entries, sorted; 65,537 entries
    /// (or none while the table is empty).
    offsets: Vec<u32>,
    rests: Vec<Rest>,
    /// Revoked since the last fold, not in the table.
    added: HashSet<Fingerprint>,
    /// In the table, no longer revoked since the last fold.
    removed: HashSet<Fingerprint>,
}

impl std::fmt::Debug for RevocationSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationSet").field("len", &self.len()).field("bytes", &self.heap_bytes()).finish()
    }
}

impl Default for RevocationSet {
    fn default() -> Self {
        Self::new()
    }
}

impl FromIterator<[u8; 16]> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = [u8; 16]>>(ids: I) -> Self {
        let mut fps: Vec<Fingerprint> = ids.into_iter().map(|id| fingerprint(&id)).collect();
        fps.sort_unstable();
        fps.dedup();
        Self::from_sorted(&fps)
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self { offsets: Vec::new(), rests: Vec::new(), added: HashSet::new(), removed: HashSet::new() }
    }

    /// The table from sorted, distinct fingerprints.
    fn from_sorted(fps: &[Fingerprint]) -> Self {
        let mut set = Self::new();
        if fps.is_empty() {
            return set;
        }
        // More than u32::MAX revoked ids would be 40 GB of them; the caps of the feed never
        // get near, and the offsets saturate rather than wrap.
        let mut offsets = vec![0u32; BUCKETS + 1];
        let mut rests = Vec::with_capacity(fps.len());
        for fp in fps {
            let (bucket, rest) = split(fp);
            offsets[bucket + 1] = offsets[bucket + 1].saturating_add(1);
            rests.push(rest);
        }
        for b in 0..BUCKETS {
            offsets[b + 1] = offsets[b + 1].saturating_add(offsets[b]);
        }
        set.offsets = offsets;
        set.rests = rests;
        set
    }

    fn in_table(&self, fp: &Fingerprint) -> bool {
        if self.rests.is_empty() {
            return false;
        }
        let (bucket, rest) = split(fp);
        let (lo, hi) = (self.offsets[bucket] as usize, self.offsets[bucket + 1] as usize);
        self.rests.get(lo..hi).is_some_and(|entries| entries.binary_search(&rest).is_ok())
    }

    /// Whether `id` is revoked (or, at `len / 2^88`, shares a revoked id's fingerprint).
    pub fn contains(&self, id: &[u8; 16]) -> bool {
        let fp = fingerprint(id);
        if !self.added.is_empty() && self.added.contains(&fp) {
            return true;
        }
        self.in_table(&fp) && (self.removed.is_empty() || !self.removed.contains(&fp))
    }

    /// Revokes `id`.
    pub fn insert(&mut self, id: &[u8; 16]) {
        let fp = fingerprint(id);
        if !self.removed.remove(&fp) && !self.in_table(&fp) {
            self.added.insert(fp);
        }
        self.fold_if_due();
    }

    /// Takes `id` off the set.
    pub fn remove(&mut self, id: &[u8; 16]) {
        let fp = fingerprint(id);
        if !self.added.remove(&fp) && self.in_table(&fp) {
            self.removed.insert(fp);
        }
        self.fold_if_due();
    }

    /// Number of revoked ids held (distinct fingerprints).
    pub fn len(&self) -> usize {
        self.rests.len() + self.added.len() - self.removed.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes on the heap: the table's capacity and the overlays' (estimated at their
    /// capacity, 12 bytes a slot).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>()
            + self.rests.capacity() * size_of::<Rest>()
            + (self.added.capacity() + self.removed.capacity()) * (size_of::<Fingerprint>() + 1)
    }

    fn fold_if_due(&mut self) {
        if self.added.len() + self.removed.len() >= COMPACT_AT {
            self.fold();
        }
    }

    /// Folds the overlays into the sorted table (linear in the set).
    pub fn fold(&mut self) {
        if self.added.is_empty() && self.removed.is_empty() {
            return;
        }
        let mut added: Vec<Fingerprint> = self.added.drain().collect();
        added.sort_unstable();
        let removed = std::mem::take(&mut self.removed);
        let mut merged = Vec::with_capacity(self.rests.len() + added.len() - removed.len());
        let mut new = added.into_iter().peekable();
        for b in 0..BUCKETS.min(self.offsets.len().saturating_sub(1)) {
            let prefix = u16::try_from(b).unwrap_or(u16::MAX).to_be_bytes();
            for rest in &self.rests[self.offsets[b] as usize..self.offsets[b + 1] as usize] {
                let mut fp = [0u8; 11];
                fp[..2].copy_from_slice(&prefix);
                fp[2..].copy_from_slice(rest);
                while let Some(n) = new.next_if(|n| *n < fp) {
                    merged.push(n);
                }
                if !removed.contains(&fp) {
                    merged.push(fp);
                }
            }
        }
        merged.extend(new);
        *self = Self::from_sorted(&merged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> [u8; 16] {
        let mut id = [0xEEu8; 16];
        id[..8].copy_from_slice(&n.to_be_bytes());
        id
    }

    #[test]
    fn patterned_ids_spread_over_the_buckets() {
        let buckets: HashSet<usize> = (0..10_000u64).map(|n| split(&fingerprint(&id(n))).0).collect();
        assert!(buckets.len() > 9_000, "{} buckets", buckets.len());
    }

    #[test]
    fn built_inserted_removed_and_folded_agree_with_a_plain_set() {
        let mut set: RevocationSet = (0..5_000).map(id).collect();
        let mut plain: HashSet<[u8; 16]> = (0..5_000).map(id).collect();
        for n in (0..10_000).step_by(3) {
            set.insert(&id(n));
            plain.insert(id(n));
        }
        for n in (0..10_000).step_by(7) {
            set.remove(&id(n));
            plain.remove(&id(n));
        }
        let check = |set: &RevocationSet| {
            assert_eq!(set.len(), plain.len());
            for n in 0..12_000 {
                assert_eq!(set.contains(&id(n)), plain.contains(&id(n)), "id {n}");
            }
        };
        check(&set);
        set.fold();
        assert!(set.added.is_empty() && set.removed.is_empty());
        check(&set);
        // Everything off again: empty, and nothing found.
        for n in 0..10_000 {
            set.remove(&id(n));
        }
        set.fold();
        assert!(set.is_empty());
        assert!(!set.contains(&id(1)));
    }

    #[test]
    fn the_overlays_fold_on_their_own() {
        let mut set = RevocationSet::new();
        for n in 0..(COMPACT_AT as u64 + 5) {
            set.insert(&id(n));
        }
        assert_eq!(set.len(), COMPACT_AT + 5);
        assert_eq!(set.added.len(), 5, "folded at {COMPACT_AT}");
        assert!(set.contains(&id(0)) && set.contains(&id(COMPACT_AT as u64 + 4)));
        assert!(!set.contains(&id(COMPACT_AT as u64 + 5)));
    }

    #[test]
    fn ten_thousand_ids_take_about_nine_bytes_each_plus_the_offsets() {
        let set: RevocationSet = (0..10_000).map(id).collect();
        assert_eq!(set.heap_bytes(), (BUCKETS + 1) * 4 + 10_000 * 9);
    }
}
