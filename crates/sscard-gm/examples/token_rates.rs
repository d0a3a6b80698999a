//! Prints token sign/verify rates, one line each, for bench-vs-openssl.sh:
//! `cargo run --release -p sscard-gm --example token_rates [seconds]`.

use std::time::Duration;

fn main() {
    let secs: f64 =
        std::env::args().nth(1).and_then(|s| s.parse().ok()).filter(|s: &f64| s.is_finite() && *s > 0.0).unwrap_or(5.0);
    let r = sscard_gm::bench::measure_tokens(Duration::from_secs_f64(secs));
    println!("token_sign_per_s {:.0}", r.sign_per_s);
    println!("token_verify_per_s {:.0}", r.verify_per_s);
}
