//! `sscard bench revocations`: the nation's revocation set at a terminal. Builds an offline
//! verifier holding `--entries` revoked e-cards (the real [`OfflineVerifier`] and its
//! [`sscard_gm::revocations::RevocationSet`]), reports the set's bytes and the process's RSS
//! before and after, then verifies the same QR tokens against an empty set and the full one,
//! alternating, in one run, and prints the rates and their ratio.

use anyhow::Context;
use sscard_gm::offline::{OfflineVerifier, PublishedKey};
use sscard_gm::sm2::SigningKey;
use sscard_gm::token::{STATUS_ACTIVE, TokenClaims, TokenFlags, sign_token};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What to measure.
pub struct Args {
    pub entries: u64,
    pub seconds: u64,
    pub tokens: usize,
}

/// The most revoked ids the benchmark builds (about 450 MB of set; more says nothing new).
const MAX_ENTRIES: u64 = 50_000_000;
/// Rounds of (empty, full); the ratio is the median of the rounds'.
const ROUNDS: usize = 3;
const ISSUED_AT: i64 = 1_764_000_000;

/// A line of /proc/self/status in KiB (`VmRSS`, `VmHWM`), where /proc tells it.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// Ids from splitmix64 on a random seed: as spread as issued ids (16 random bytes) without a
/// system call per id.
fn ids(n: u64) -> impl Iterator<Item = [u8; 16]> {
    let mut state = u64::from_le_bytes(sscard_gm::rand::random_bytes());
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..n).map(move |_| {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&next().to_le_bytes());
        id[8..].copy_from_slice(&next().to_le_bytes());
        id
    })
}

fn claims(ecard_id: [u8; 16]) -> TokenClaims {
    TokenClaims {
        key_id: 1,
        ecard_id,
        status: STATUS_ACTIVE,
        flags: TokenFlags::default(),
        region: 350_200,
        issued_at: ISSUED_AT,
        ttl_s: 60,
        nonce: 0,
    }
}

/// Verifications per second of `tokens` in turn for `duration`; every one must pass.
fn rate(verifier: &OfflineVerifier, tokens: &[String], duration: Duration) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut n = 0u64;
    // The clock is read every 64 verifications (each takes tens of microseconds).
    while started.elapsed() < duration {
        for t in tokens.iter().cycle().skip(usize::try_from(n).unwrap_or(0) % tokens.len()).take(64) {
            verifier.verify(t, ISSUED_AT + 1).map_err(|e| anyhow::anyhow!("a valid token was refused: {e}"))?;
        }
        n += 64;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

pub fn revocations(args: Args) -> anyhow::Result<ExitCode> {
    let entries = args.entries.min(MAX_ENTRIES);
    let duration = Duration::from_secs(args.seconds.clamp(1, 60));
    let key = SigningKey::generate();
    let published = [PublishedKey {
        key_id: 1,
        public_key_pem: key.verifying_key().to_spki_pem(),
        not_before: 0,
        not_after: i64::MAX,
    }];
    let tokens: Vec<String> =
        ids(args.tokens.clamp(1, 10_000) as u64).map(|id| sign_token(&claims(id), &key)).collect();
    let empty = OfflineVerifier::new(&published, [], 30).context("load the key")?;

    let rss_before = status_kib("VmRSS:");
    let built = Instant::now();
    let mut first = None;
    let drawn = ids(entries).inspect(|id| {
        first.get_or_insert(*id);
    });
    let full = OfflineVerifier::new(&published, drawn, 30).context("load the key")?;
    let build_s = built.elapsed().as_secs_f64();
    let rss_after = status_kib("VmRSS:");
    let set = full.revocations();
    println!("revocation set: {} revoked e-cards (of {entries} drawn), built in {build_s:.1} s", set.len());
    println!(
        "  structure             : {:>10} bytes ({:.1} MB, {:.2} bytes an entry)",
        set.heap_bytes(),
        set.heap_bytes() as f64 / 1e6,
        set.heap_bytes() as f64 / set.len().max(1) as f64
    );
    println!("  RSS before / after    : {} / {}", mib(rss_before), mib(rss_after));
    println!(
        "  peak RSS (VmHWM)      : {} (the ids are sorted as 11-byte fingerprints while building)",
        mib(status_kib("VmHWM:"))
    );
    if let Some(revoked) = first {
        check_refusal(&empty, &full, &key, revoked)?;
    }

    println!(
        "offline QR verification, {} distinct tokens, one thread, {ROUNDS} rounds of {}s each way:",
        tokens.len(),
        duration.as_secs()
    );
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        let e = rate(&empty, &tokens, duration)?;
        let f = rate(&full, &tokens, duration)?;
        println!("  round {round}: empty set {e:>8.0} /s, full set {f:>8.0} /s, ratio {:.3}", f / e);
        ratios.push(f / e);
    }
    ratios.sort_by(f64::total_cmp);
    println!("  median ratio full / empty: {:.3}", ratios[ROUNDS / 2]);
    // The allocator gives the build's freed buffers back to the system while the process
    // goes on allocating: this is what a terminal holds once it verifies.
    println!("  RSS after the rounds  : {} (the set and the verifier, building done)", mib(status_kib("VmRSS:")));
    Ok(ExitCode::SUCCESS)
}

/// A token of an e-card in the set passes the empty verifier and is refused by the full one
/// as revoked: the set is really consulted.
fn check_refusal(
    empty: &OfflineVerifier,
    full: &OfflineVerifier,
    key: &SigningKey,
    revoked: [u8; 16],
) -> anyhow::Result<()> {
    let token = sign_token(&claims(revoked), key);
    empty.verify(&token, ISSUED_AT + 1).map_err(|e| anyhow::anyhow!("the empty set refused a token: {e}"))?;
    match full.verify(&token, ISSUED_AT + 1) {
        Err(sscard_gm::offline::Rejection::Revoked) => Ok(()),
        other => anyhow::bail!("a revoked e-card's token was not refused as revoked: {other:?}"),
    }
}
