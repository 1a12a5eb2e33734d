#!/usr/bin/env bash
# Browser tests: builds civicarchive, starts it on a free loopback port with
# a fresh data dir and a user, and runs e2e/*.test.mjs (node's test runner,
# playwright-core driving Debian's chromium). Installs what is missing.
#
# The archive they browse is captured for real: scripts/e2e/seed serves a
# fake Mastodon account on loopback; it is registered through the API and
# captured, then the platform edits a post and deletes a comment and it is
# captured again, so there are earlier versions and deletion marks to find.
# Usage: scripts/e2e.sh   (exit status: the tests')
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '    e2e: %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1; then
    log "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
fi
(cd e2e && npm ci --no-audit --no-fund --silent)

STATE=$(mktemp -d /tmp/civicarchive-e2e.XXXXXX)
SERVER_PID=
SEED_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "$SEED_PID" ] && kill "$SEED_PID" 2>/dev/null && wait "$SEED_PID" 2>/dev/null
    rm -rf "$STATE"
}
trap cleanup EXIT

go build -o "$STATE/civicarchive" ./cmd/civicarchive
go build -o "$STATE/seed" ./scripts/e2e/seed
# The records-request tests file more requests than the public form's
# default hourly limit per address allows.
export CIVICARCHIVE_DATA_DIR=$STATE/data CIVICARCHIVE_SCHEDULER=off CIVICARCHIVE_LOG_FORMAT=json \
    CIVICARCHIVE_RECORDS_FORMS_PER_HOUR=50
export E2E_USER=clerk.e2e E2E_PASSWORD="e2e passphrase $(date +%s%N)"
printf '%s\n' "$E2E_PASSWORD" | "$STATE/civicarchive" user create --username "$E2E_USER" --role clerk --display-name "E2E Clerk" >/dev/null
export E2E_COORD=coord.e2e E2E_COORD_PASSWORD="e2e coordinator $(date +%s%N)"
printf '%s\n' "$E2E_COORD_PASSWORD" | "$STATE/civicarchive" user create --username "$E2E_COORD" --role coordinator --display-name "E2E Coordinator" >/dev/null
TOKEN=$("$STATE/civicarchive" token create --name e2e --role admin | tail -n 1)

"$STATE/civicarchive" serve --listen 127.0.0.1:0 2>"$STATE/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    BASE_URL=$(grep -o '"url":"http://[^"]*"' "$STATE/serve.log" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    [ -n "$BASE_URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$STATE/serve.log"; exit 1; }
    sleep 0.1
done
[ -n "$BASE_URL" ] || { log "server did not start"; cat "$STATE/serve.log"; exit 1; }
export BASE_URL CHROMIUM=$(command -v chromium)
log "server at $BASE_URL"

# json PATH: the value at a dotted path of the JSON on stdin ("" if none).
json() { node -e 'let o = JSON.parse(require("fs").readFileSync(0, "utf8")); for (const k of process.argv[1].split(".")) o = o?.[k]; console.log(o ?? "")' "$1"; }
# api METHOD PATH [BODY]: the JSON API as the e2e admin token; fails on an HTTP error.
api() {
    curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${3:+--data "$3"} "$BASE_URL$2"
}
# capture: a full capture of the account, waited for; fails unless it succeeded.
capture() {
    local id status=running
    id=$(api POST "/api/v1/accounts/$ACCOUNT_ID/captures" '{"kind":"full"}' | json id)
    for _ in $(seq 1 600); do
        status=$(api GET "/api/v1/captures/$id" | json status)
        [ "$status" != running ] && break
        sleep 0.2
    done
    [ "$status" = succeeded ] || { log "capture $id: $status"; api GET "/api/v1/captures/$id"; echo; exit 1; }
    log "capture $id $status"
}

"$STATE/seed" >"$STATE/seed.json" 2>"$STATE/seed.log" &
SEED_PID=$!
for _ in $(seq 1 100); do
    [ -s "$STATE/seed.json" ] && break
    kill -0 "$SEED_PID" 2>/dev/null || { cat "$STATE/seed.log"; exit 1; }
    sleep 0.1
done
SEED=$(head -n 1 "$STATE/seed.json")
PLATFORM_BASE=$(json api_base <<<"$SEED")
[ -n "$PLATFORM_BASE" ] || { log "the seeder did not start"; cat "$STATE/seed.log"; exit 1; }
ACCOUNT_ID=$(api POST /api/v1/accounts "$(node -e 'const s = JSON.parse(process.argv[1]);
    console.log(JSON.stringify({platform: "mastodon", handle: s.handle, native_id: s.native_id, api_base: s.api_base,
        credential: s.credential, department: "Communications", display_name: "City of Clinton"}))' "$SEED")" | json id)
log "account $ACCOUNT_ID on the fake platform at $PLATFORM_BASE"
capture
curl -sS --fail-with-body -X POST "$PLATFORM_BASE/_control/edit-and-delete"
capture
# The index follows the catalog within seconds: wait until it has the
# second capture (the post edited, the comment deleted).
indexed=
for _ in $(seq 1 150); do
    if [ "$(api GET '/api/v1/search?q=library&deleted=true' | json total)" = 1 ] &&
        [ "$(api GET '/api/v1/search?q=parade' | json hits.0.version_count)" = 2 ]; then
        indexed=yes
        break
    fi
    sleep 0.2
done
[ -n "$indexed" ] || { log "the search index did not catch up with the captures"; exit 1; }
export E2E_SEEDED=1

mkdir -p e2e/artifacts
cd e2e
node --test --test-reporter=spec
