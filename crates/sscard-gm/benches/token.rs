//! Criterion benchmarks: QR token sign, and offline verify with one key and
//! a 10,000-entry revocation set (`cargo bench -p sscard-gm`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sscard_gm::bench::fixture;
use sscard_gm::token::sign_token;

fn token(c: &mut Criterion) {
    let (key, verifier, claims) = fixture();
    c.bench_function("token_sign", |b| b.iter(|| sign_token(black_box(&claims), &key)));
    let text = sign_token(&claims, &key);
    let now = claims.issued_at + 1;
    c.bench_function("token_verify_offline", |b| b.iter(|| verifier.verify(black_box(&text), now)));
    let sig_key = key.verifying_key().clone();
    let msg = claims.encode();
    let sig = key.sign(&msg);
    c.bench_function("sm2_verify_raw", |b| b.iter(|| sig_key.verify(black_box(&msg), &sig)));
    c.bench_function("sm2_sign_raw", |b| b.iter(|| key.sign(black_box(&msg))));
}

criterion_group!(benches, token);
criterion_main!(benches);
