#!/usr/bin/env bash
# Browser tests: builds civicarchive, starts it on a free loopback port with
# a fresh data dir and a user, and runs e2e/*.test.mjs (node's test runner,
# playwright-core driving Debian's chromium). Installs what is missing.
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
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$STATE"
}
trap cleanup EXIT

go build -o "$STATE/civicarchive" ./cmd/civicarchive
export CIVICARCHIVE_DATA_DIR=$STATE/data CIVICARCHIVE_SCHEDULER=off CIVICARCHIVE_LOG_FORMAT=json
export E2E_USER=clerk.e2e E2E_PASSWORD="e2e passphrase $(date +%s%N)"
printf '%s\n' "$E2E_PASSWORD" | "$STATE/civicarchive" user create --username "$E2E_USER" --role clerk --display-name "E2E Clerk" >/dev/null

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

mkdir -p e2e/artifacts
cd e2e
node --test --test-reporter=spec
