#!/usr/bin/env bash
# Browser tests: installs Debian's Chromium, CJK fonts and nats-server if missing, installs
# playwright-core from npm (no browser download), starts `sscard serve --demo` on a fresh
# SQLite file and a free port (a deployment on its own), and a small nation beside it: its own
# `nats-server -js`, a hub and two deployments XM (Xiamen, 3502) and FZ (Fuzhou, 3501), each
# with its own database (docs/NATION.md, README "A small nation on one machine"). Runs the
# tests and keeps screenshots under target/web-screenshots/.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
started=$(date +%s)

if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk
fi
command -v node >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
[ -x /usr/sbin/nats-server ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server; }
npm ci --no-audit --no-fund --loglevel=error

# SSCARD_BIN: a binary built already (the tests then start it instead of building one).
if [ -z "${SSCARD_BIN:-}" ]; then (cd "$root" && cargo build -p sscard --locked); fi
sscard="${SSCARD_BIN:-$target/debug/sscard}"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# Waits until GET /api/v1/health answers 200 (the port is bound before the keys are ready).
wait_up() {
  node -e '
    const [url, what] = process.argv.slice(1); const until = Date.now() + 240000;
    (async () => { for (;;) {
      try { if ((await fetch(`${url}/api/v1/health`)).ok) return; } catch {}
      if (Date.now() > until) { console.error(`${what} did not answer at ${url}`); process.exit(1); }
      await new Promise((r) => setTimeout(r, 200));
    } })();' "$1" "$2" || { cat "$work"/*.log; exit 1; }
}

# The deployment on its own: the demo city, as every test but the nation's uses it.
log="$work/serve.log"
"$sscard" --database-url "sqlite://$work/web.db" serve --demo --listen 127.0.0.1:0 >"$log" 2>&1 &
pids+=($!)

# The nation. Each city has one bank with a printer branch, and staff with the demo password.
nats_port=$(free_port); hub_port=$(free_port); xm_port=$(free_port); fz_port=$(free_port)
mkdir -p "$work/nats"
/usr/sbin/nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)
city() { # code region branch
  local db="sqlite://$work/$1.db"
  "$sscard" --database-url "$db" bank add --code ICBC --name 工商银行 --bin 622202 >/dev/null
  "$sscard" --database-url "$db" branch add --bank-code ICBC --code "$3" --name "工商银行$1网点" --region "$2" --printer >/dev/null
  for who in admin:admin clerk:clerk teller:teller; do
    local extra=(); [ "${who#*:}" = teller ] && extra=(--bank-code ICBC --branch "$3")
    echo sscard-demo | "$sscard" --database-url "$db" user add --username "${who%%:*}" --role "${who#*:}" "${extra[@]}" --password-stdin >/dev/null
  done
}
city xm 350203 ICBC-XM
city fz 350102 ICBC-FZ
"$sscard" --database-url "sqlite://$work/hub.db" hub add-deployment --code XM --name 厦门 --regions 3502 --url "http://127.0.0.1:$xm_port" >"$work/xm.secret"
"$sscard" --database-url "sqlite://$work/hub.db" hub add-deployment --code FZ --name 福州 --regions 3501 --url "http://127.0.0.1:$fz_port" >"$work/fz.secret"
"$sscard" --database-url "sqlite://$work/hub.db" serve --hub --nats-url "nats://127.0.0.1:$nats_port" --listen "127.0.0.1:$hub_port" >"$work/hub.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$hub_port" "the hub"
for d in xm:$xm_port fz:$fz_port; do
  code=$(echo "${d%%:*}" | tr a-z A-Z)
  SSCARD_HUB_SECRET=$(cat "$work/${d%%:*}.secret") "$sscard" --database-url "sqlite://$work/${d%%:*}.db" serve \
    --deployment "$code" --hub-url "http://127.0.0.1:$hub_port" --nats-url "nats://127.0.0.1:$nats_port" \
    --listen "127.0.0.1:${d#*:}" >"$work/${d%%:*}.log" 2>&1 &
  pids+=($!)
done
wait_up "http://127.0.0.1:$xm_port" "deployment XM"
wait_up "http://127.0.0.1:$fz_port" "deployment FZ"

for _ in $(seq 1 240); do
  addr=$(grep -o 'serving on http://[0-9.:]*' "$log" | head -1 | sed 's/serving on //') || true
  [ -n "${addr:-}" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done
[ -n "${addr:-}" ] || { echo "the server did not start"; cat "$log"; exit 1; }
wait_up "$addr" "the demo server"
echo "servers up after $(( $(date +%s) - started ))s: demo $addr, hub :$hub_port, XM :$xm_port, FZ :$fz_port"
export SSCARD_BASE_URL="$addr"
export SSCARD_NATION_XM="http://127.0.0.1:$xm_port" SSCARD_NATION_FZ="http://127.0.0.1:$fz_port"
export SSCARD_SHOTS="$target/web-screenshots"
# axe judges each page state once per run (lib.js axe); each test file says where its time went.
export SSCARD_AXE_CACHE="${SSCARD_AXE_CACHE:-$work/axe-judged.json}" SSCARD_WEB_TIMING=1
tests_started=$(date +%s)
# Arguments name test files to run (default: all of them).
status=0
node --test --test-concurrency=1 "${@:-tests/}" || status=$?
echo "browser tests took $(( $(date +%s) - tests_started ))s ($(( $(date +%s) - started ))s with the build and the servers' start)"
[ "$status" = 0 ] || exit "$status"
# The PINs the tests typed (739164 at the desk, on the customer screen and on the portal, also
# for a card held by another deployment; 123456 refused as too easy) are never logged nor kept
# in clear: not in any server's log (the demo server, the hub, XM, FZ), not in their databases.
if grep -a -l -E -i 'pin[^0-9]{0,8}(739164|123456)|739164' "$work"/*.log || grep -a -l -E -i 'pin[^0-9]{0,8}(739164|123456)' "$work"/*.db*; then
  echo "a PIN typed in the browser tests appears in the file(s) above"; exit 1
fi
