#!/usr/bin/env bash
# Schemathesis over the OpenAPI document (/api/v1/openapi.json) against a `sscard serve --demo`
# on a fresh SQLite file: one run with an admin token, one with a holder token, one with a
# transit gate's secret over the one-card operations, and one over logout with a throwaway
# token. Checks: no 5xx, every answer's status documented, its body matching the documented
# schema and content type. Then the audit chain and the books of that database must be clean.
# Bounded (a fixed seed, --max-examples per operation) so it takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
version=4.32.5
examples=${SSCARD_SCHEMATHESIS_EXAMPLES:-40}

venv="$target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
fi
"$venv/bin/schemathesis" --version

cargo build -p sscard --locked
sscard="$target/debug/sscard"
work=$(mktemp -d)
# SQLite by default; `--postgres` runs the same against a fresh PostgreSQL database (dropped
# afterwards), with a throwaway master key as PostgreSQL deployments must give one.
db="sqlite://$work/fuzz.db"
pg_db=""
if [ "${1:-}" = "--postgres" ]; then
  pg_admin="${SSCARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  pg_db="sscard_schemathesis_$$"
  psql "$pg_admin" -qc "CREATE DATABASE $pg_db"
  db="${pg_admin%/*}/$pg_db"
  SSCARD_MASTER_KEY=$(openssl rand -hex 32)
  export SSCARD_MASTER_KEY
fi
log="$work/serve.log"
"$sscard" --database-url "$db" serve --demo --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
cleanup() {
  kill $server 2>/dev/null || true
  rm -rf "$work"
  if [ -n "$pg_db" ]; then psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 180); do
  addr=$(grep -o 'serving on http://[0-9.:]*' "$log" | head -1 | sed 's/serving on //') || true
  [ -n "${addr:-}" ] && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done
[ -n "${addr:-}" ] || { echo "the server did not start"; cat "$log"; exit 1; }
api="$addr/api/v1"
echo "server at $addr"

login() {
  "$venv/bin/python" - "$api" "$1" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/auth/login", method="POST",
    data=json.dumps({"username": sys.argv[2], "password": "sscard-demo"}).encode(),
    headers={"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])
PY
}
admin=$(login admin)
holder=$(login holder1)
throwaway=$(login holder2)
gate=$(grep -o 'XM-BUS .*sst_[0-9a-f]*' "$log" | grep -o 'sst_[0-9a-f]*')

# One worker: schemathesis 4.32 on Python 3.11 can fail inside Hypothesis's lambda
# descriptions ("AST constructor recursion depth mismatch") when workers share the process.
run() {
  local name=$1; shift
  echo; echo "--- schemathesis: $name"
  local out="$work/$name.log"
  if ! (cd "$work" && "$venv/bin/schemathesis" run "$api/openapi.json" \
      --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
      --max-examples "$examples" --workers 1 --seed 20261202 --no-color --output-truncate false \
      --warnings off "$@") >"$out" 2>&1; then
    cat "$out"; echo "schemathesis ($name) found failures"; exit 1
  fi
  sed -n '/^=* SUMMARY/,$p' "$out"
  # Every selected operation was tested.
  local selected tested
  selected=$(grep -o 'Selected: [0-9]*' "$out" | grep -o '[0-9]*$')
  tested=$(grep -o 'Tested: [0-9]*' "$out" | grep -o '[0-9]*$')
  [ "$selected" = "$tested" ] || { echo "$name: only $tested of $selected operations tested"; exit 1; }
}
# Logout ends the session of the token it is sent with, so the token runs leave it out and a
# throwaway token runs it on its own.
run admin -H "Authorization: Bearer $admin" --exclude-path /api/v1/auth/logout
run holder -H "Authorization: Bearer $holder" --exclude-path /api/v1/auth/logout
run gate -H "Authorization: Bearer $gate" --include-tag onecard
run logout -H "Authorization: Bearer $throwaway" --include-path /api/v1/auth/logout

kill $server; wait $server 2>/dev/null || true
echo; echo "--- the audit chain and the books after the run"
"$sscard" --database-url "$db" audit verify
"$sscard" --database-url "$db" ledger check
