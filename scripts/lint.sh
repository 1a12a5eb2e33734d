#!/usr/bin/env bash
# Lint: gofmt (no unformatted files), go vet, and staticcheck when it is
# installed (it is not installed by this script; set LINT_STATICCHECK=0 to skip
# it even then — CI does, so that CI behaves the same on every machine).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
fi

rc=0

echo "lint: gofmt -l ."
unformatted=$(gofmt -l . 2>&1) || true
if [ -n "$unformatted" ]; then
    echo "lint: these files are not gofmt-formatted (run: gofmt -w .):" >&2
    sed 's/^/    /' <<<"$unformatted" >&2
    rc=1
fi

echo "lint: go vet ./..."
if ! go vet ./...; then
    echo "lint: go vet failed" >&2
    rc=1
fi

if [ "${LINT_STATICCHECK:-1}" != 0 ]; then
    staticcheck=$(command -v staticcheck 2>/dev/null || true)
    if [ -z "$staticcheck" ] && [ -x "$(go env GOPATH)/bin/staticcheck" ]; then
        staticcheck="$(go env GOPATH)/bin/staticcheck"
    fi
    if [ -n "$staticcheck" ]; then
        echo "lint: staticcheck ./..."
        if ! "$staticcheck" ./...; then
            echo "lint: staticcheck failed" >&2
            rc=1
        fi
    else
        echo "lint: staticcheck not installed; skipped"
    fi
fi

if [ "$rc" -eq 0 ]; then echo "lint: ok"; fi
exit "$rc"
