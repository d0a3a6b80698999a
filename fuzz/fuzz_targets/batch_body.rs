//! The offline batch body gates upload (`POST /api/v1/transit/batches`): the server's own
//! JSON extractor and the domain checks every line goes through before any store is touched
//! (batch shape, card number or QR token, time, fare) never panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sscard_domain::ids::{CardNo, RegionCode};
use sscard_domain::transit::{self, MAX_BATCH};
use sscard_gm::token::decode_token;
use sscard_server::extract::JsonBody;
use sscard_server::routes::onecard::BatchRequest;

/// An upload time (2025-11-24) and two cities, for the time and fare checks.
const NOW_MS: i64 = 1_764_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = JsonBody::<BatchRequest>::parse(data) else { return };
    let lines = body.transactions;
    if lines.len() > MAX_BATCH {
        return;
    }
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    let shape_ok = transit::check_batch(&seqs).is_ok();
    assert!(!shape_ok || (!lines.is_empty() && seqs.iter().all(|s| *s > 0)));
    let (here, there) = (RegionCode::parse("350200").ok(), RegionCode::parse("110100").ok());
    let (Some(here), Some(there)) = (here, there) else { return };
    for l in &lines {
        if let Some(no) = &l.card_no {
            let _ = CardNo::parse(no.trim());
        }
        if let Some(token) = &l.token {
            let _ = decode_token(token);
        }
        let _ = transit::check_offline_time(l.at, NOW_MS);
        for (op, insured) in [(here, here), (here, there)] {
            if let Ok(fare) = transit::fare_for(l.fare_fen, l.resident_fare_fen, op, insured) {
                assert!((0..=transit::MAX_FARE_FEN).contains(&fare.value()), "a fare is 0..=100 yuan");
            }
        }
    }
});
