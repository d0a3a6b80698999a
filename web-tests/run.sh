#!/usr/bin/env bash
# Browser tests: installs Debian's Chromium and CJK fonts if missing, installs
# playwright-core from npm (no browser download), starts `sscard serve --demo` on a
# fresh SQLite file and a free port, runs the tests, and keeps screenshots under
# target/web-screenshots/.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk
fi
command -v node >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
npm ci --no-audit --no-fund --loglevel=error

(cd "$root" && cargo build -p sscard --locked)
work=$(mktemp -d)
log="$work/serve.log"
"$target/debug/sscard" --database-url "sqlite://$work/web.db" serve --demo --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  addr=$(grep -o 'serving on http://[0-9.:]*' "$log" | head -1 | sed 's/serving on //') || true
  [ -n "${addr:-}" ] && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done
[ -n "${addr:-}" ] || { echo "the server did not start"; cat "$log"; exit 1; }
echo "server at $addr"
export SSCARD_BASE_URL="$addr"
export SSCARD_SHOTS="$target/web-screenshots"
node --test --test-concurrency=1 tests/
# The PINs the tests typed (739164 at the desk and on the portal, 123456 refused as too easy) are
# never logged nor kept in clear: not in the server's log, not in its database files.
if grep -a -l -E -i 'pin[^0-9]{0,8}(739164|123456)|739164' "$log" || grep -a -l -E -i 'pin[^0-9]{0,8}(739164|123456)' "$work"/web.db*; then
  echo "a PIN typed in the browser tests appears in the file(s) above"; exit 1
fi
