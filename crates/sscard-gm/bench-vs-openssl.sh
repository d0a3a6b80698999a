#!/usr/bin/env bash
# Token sign/verify rates of sscard-gm next to `openssl speed` on the same
# machine, in one run, with the ratios (DESIGN §10). Single thread each.
#
#   crates/sscard-gm/bench-vs-openssl.sh [seconds]    (default 5)
#
# Goals: token verify >= 1.3x OpenSSL SM2 verify, token sign >= 3x OpenSSL SM2 sign.
set -euo pipefail

secs="${1:-5}"
cd "$(dirname "$0")/../.."

command -v openssl >/dev/null || { echo "openssl not on PATH" >&2; exit 1; }

echo "building the token_rates example (release)..." >&2
cargo build --quiet --release -p sscard-gm --example token_rates

# `openssl speed` prints e.g. " 256 bits SM2 (CurveSM2)   0.0003s   0.0003s   3042.3   3366.3":
# the last two fields are sign/s and verify/s.
speed() {
    openssl speed -seconds "$secs" "$1" 2>/dev/null | awk -v pat="$2" '$0 ~ pat { print $(NF-1), $NF }' | tail -n 1
}

echo "openssl speed -seconds $secs sm2 ..." >&2
read -r sm2_sign sm2_verify < <(speed sm2 'SM2')
echo "cargo run --release -p sscard-gm --example token_rates -- $secs ..." >&2
ours="$(cargo run --quiet --release -p sscard-gm --example token_rates -- "$secs")"
tok_sign="$(awk '/^token_sign_per_s/ { print $2 }' <<<"$ours")"
tok_verify="$(awk '/^token_verify_per_s/ { print $2 }' <<<"$ours")"
echo "openssl speed -seconds $secs ecdsap256 ..." >&2
read -r p256_sign p256_verify < <(speed ecdsap256 'nistp256')

awk -v ts="$tok_sign" -v tv="$tok_verify" \
    -v ss="$sm2_sign" -v sv="$sm2_verify" \
    -v ps="$p256_sign" -v pv="$p256_verify" 'BEGIN {
    printf "%-34s %12s %12s\n", "", "sign/s", "verify/s"
    printf "%-34s %12.0f %12.0f\n", "sscard-gm QR token (SM2)", ts, tv
    printf "%-34s %12.0f %12.0f\n", "OpenSSL SM2", ss, sv
    printf "%-34s %12.0f %12.0f\n", "OpenSSL ECDSA P-256", ps, pv
    printf "%-34s %11.2fx %11.2fx   (goal: sign >= 3x, verify >= 1.3x)\n", "token / OpenSSL SM2", ts / ss, tv / sv
    printf "%-34s %11.2fx %11.2fx\n", "token / OpenSSL P-256", ts / ps, tv / pv
    ok = (ts / ss >= 3 && tv / sv >= 1.3)
    print (ok ? "goals met" : "GOALS NOT MET")
    exit (ok ? 0 : 1)
}'
