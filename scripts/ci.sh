#!/usr/bin/env bash
# CI for civicarchive (run by .ci/run; `make ci` locally). Needs root on a fresh
# Debian 12 machine only to install PostgreSQL; everything else is user-level.
#
# Steps (each one a function; add new suites the same way, see STEPS below):
#   lint      gofmt + go vet (scripts/lint.sh)
#   services  real backends: versitygw S3 (scripts/start-s3.sh) and a private
#             PostgreSQL (scripts/start-postgres.sh), both on loopback; and
#             the independent ZIP tools (scripts/install-zip-tools.sh)
#   go-tests  go test -race -count=1 -v ./... with both backends' env sourced;
#             the full output goes to a log file, only the summary and the
#             output of failing tests are printed
#   backends  fails unless the real-backend tests (S3, PostgreSQL) really ran
#
# Whatever happens (failure, Ctrl-C, SIGTERM) the EXIT trap stops the servers and
# removes the state dir. The last line printed is `N passed, N failed`.
#
# Environment:
#   GO_TEST_TIMEOUT   per test binary (go test -timeout), default 30m
#   GO_TEST_FLAGS     extra flags for go test (e.g. "-run TestStore")
#   CI_LOG_DIR        where logs are kept (default: a new dir under /tmp)
# shellcheck disable=SC2317  # functions are called indirectly (step_*, traps)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$(pwd -P)

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "ci: go not found" >&2; exit 1; }
GOPATH_BIN="$(go env GOPATH)/bin"
export PATH="$GOPATH_BIN:$PATH"
export DEBIAN_FRONTEND=noninteractive

GO_TEST_TIMEOUT=${GO_TEST_TIMEOUT:-30m}
STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/civicarchive-ci.XXXXXX")
LOG_DIR=${CI_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/civicarchive-ci-logs.XXXXXX")}
mkdir -p "$LOG_DIR"
GO_TEST_LOG="$LOG_DIR/go-test.log"

# ---------------------------------------------------------------------------
# helpers

section() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'ci: %s\n' "$*" >&2; }

# run_in_group LOG CMD...: runs CMD in its own process group (so an interrupt
# can stop all of it), output to LOG; returns CMD's exit status. While it runs,
# lines of LOG matching $LIVE_FILTER (if set) are echoed as progress.
CHILD_PID=
LIVE_FILTER=
run_in_group() {
    local log=$1; shift
    : >"$log"
    setsid "$@" >"$log" 2>&1 </dev/null &
    CHILD_PID=$!
    local tail_pid=
    if [ -n "$LIVE_FILTER" ]; then
        { tail -n +1 -s 1 -F --pid="$CHILD_PID" "$log" 2>/dev/null \
            | grep --line-buffered -E "$LIVE_FILTER" | sed -u 's/^/    /' || true; } &
        tail_pid=$!
    fi
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=
    [ -n "$tail_pid" ] && { wait "$tail_pid" || true; }
    return "$rc"
}

# ---------------------------------------------------------------------------
# cleanup: idempotent; runs from the EXIT trap and before the final summary.

CLEANED_UP=0
cleanup() {
    [ "$CLEANED_UP" -eq 1 ] && return 0
    CLEANED_UP=1
    if [ -n "${CHILD_PID:-}" ] && kill -0 "$CHILD_PID" 2>/dev/null; then
        kill -TERM -- "-$CHILD_PID" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 -- "-$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$CHILD_PID" 2>/dev/null || true
    fi
    stop_s3
    stop_postgres
    rm -rf "$STATE_DIR"
}

# alive PID: the process exists and is not a zombie waiting to be reaped
alive() {
    local st
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

stop_s3() {
    local pid
    [ -f "$STATE_DIR/s3.pid" ] || return 0
    pid=$(cat "$STATE_DIR/s3.pid" 2>/dev/null || true)
    rm -f "$STATE_DIR/s3.pid"
    [ -n "$pid" ] && alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.1; done
    warn "versitygw (pid $pid) did not stop on SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

stop_postgres() {
    [ -x "$STATE_DIR/pg.stop" ] || return 0
    "$STATE_DIR/pg.stop" || warn "pg.stop failed"
    rm -f "$STATE_DIR/pg.stop"
}

on_exit() {
    local rc=$?
    cleanup
    exit "$rc"
}
on_signal() {
    warn "interrupted by SIG$1; cleaning up"
    trap - INT TERM HUP
    cleanup
    case $1 in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
}
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# ---------------------------------------------------------------------------
# steps. Each returns non-zero on failure; errexit does not apply inside them
# (they are called from a condition), so every command's status is checked.

# run_logged NAME CMD...: run_in_group with the log at $LOG_DIR/NAME.log, then
# print the log indented. Returns CMD's exit status.
run_logged() {
    local log="$LOG_DIR/$1.log" rc=0; shift
    run_in_group "$log" "$@" || rc=$?
    sed 's/^/    /' "$log"
    return "$rc"
}

step_lint() {
    run_logged lint env LINT_STATICCHECK="${LINT_STATICCHECK:-0}" bash scripts/lint.sh
}

step_services() {
    local ok=0 t0
    t0=$SECONDS
    if run_logged start-s3 bash scripts/start-s3.sh "$STATE_DIR" \
            && [ -f "$STATE_DIR/s3.env" ]; then
        # shellcheck disable=SC1091
        source "$STATE_DIR/s3.env"
        note "S3 (versitygw) ready at ${CIVICARCHIVE_TEST_S3_ENDPOINT:-?} after $((SECONDS - t0))s"
    else
        ok=1
        warn "starting S3 (versitygw) failed; the real-S3 tests cannot run"
    fi

    t0=$SECONDS
    if run_logged start-postgres bash scripts/start-postgres.sh "$STATE_DIR" \
            && [ -f "$STATE_DIR/pg.env" ]; then
        # shellcheck disable=SC1091
        source "$STATE_DIR/pg.env"
        note "PostgreSQL ready after $((SECONDS - t0))s"
    else
        ok=1
        warn "starting PostgreSQL failed; the PostgreSQL tests cannot run"
    fi

    # Independent ZIP tools (Info-ZIP unzip, 7-Zip, libarchive's bsdtar): the
    # export end-to-end test checks every bundle with them too, and with
    # CIVICARCHIVE_REQUIRE_ZIP_TOOLS=1 fails if one is missing.
    if run_logged zip-tools bash scripts/install-zip-tools.sh; then
        export CIVICARCHIVE_REQUIRE_ZIP_TOOLS=1
        note "unzip, 7z and bsdtar ready"
    else
        ok=1
        warn "installing unzip, 7z and bsdtar failed"
    fi
    return "$ok"
}

GO_TEST_RC=
step_go_tests() {
    local -a flags=()
    # shellcheck disable=SC2206
    [ -n "${GO_TEST_FLAGS:-}" ] && flags=(${GO_TEST_FLAGS})
    local -a cmd=(go test -race -count=1 -v -timeout "$GO_TEST_TIMEOUT" "${flags[@]}" ./...)
    note "${cmd[*]}"
    note "full output: $GO_TEST_LOG"
    GO_TEST_RC=0
    LIVE_FILTER='^(ok|FAIL|panic:)[[:space:]]' run_in_group "$GO_TEST_LOG" "${cmd[@]}" || GO_TEST_RC=$?
    count_tests "$GO_TEST_LOG"
    if [ "$GO_TEST_RC" -ne 0 ]; then
        show_failures "$GO_TEST_LOG"
        warn "go test exited with status $GO_TEST_RC"
        return 1
    fi
    return 0
}

# count_tests LOG: sets the per-backend and total counters from go test -v output.
count_lines() {
    local n
    n=$(grep -c -E "$1" "$2" 2>/dev/null || true)
    echo "${n:-0}"
}
count_tests() {
    local log=$1 p='^[[:space:]]*--- PASS: '
    N_LOCAL=$(count_lines "${p}TestStore/local/" "$log")
    N_GOFAKES3=$(count_lines "${p}TestStore/gofakes3/" "$log")
    N_S3_STORE=$(count_lines "${p}TestStore/s3/" "$log")
    N_OBJLOCK=$(count_lines "${p}TestObjectLock" "$log")
    N_REPLICAS=$(count_lines "${p}TestTwoReplicasShareCatalogAndBucket" "$log")
    N_S3=$((N_S3_STORE + N_OBJLOCK))
    N_SQLITE=$(count_lines "${p}TestCatalog/sqlite/" "$log")
    N_POSTGRES=$(count_lines "${p}TestCatalog/postgres/" "$log")
    N_SKIP=$(count_lines '^[[:space:]]*--- SKIP: ' "$log")
    TOTAL_PASSED=$((TOTAL_PASSED + $(count_lines '^[[:space:]]*--- PASS: ' "$log")))
    local failed pkg_failed
    # failed tests, plus packages whose tests could not even be built
    failed=$(( $(count_lines '^[[:space:]]*--- FAIL: ' "$log") + $(count_lines '^FAIL[[:space:]].*\[(build|setup) failed\]' "$log") ))
    if [ "$failed" -eq 0 ] && [ "${GO_TEST_RC:-0}" -ne 0 ]; then
        # build failures, panics in TestMain, timeouts before any --- FAIL line:
        # count the failed packages so the closing line does not say 0 failed.
        pkg_failed=$(count_lines '^FAIL[[:space:]]' "$log")
        failed=$((pkg_failed > 0 ? pkg_failed : 1))
    fi
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
}
N_BROWSER=0 N_FUZZ=0
N_REPLICAS=0 N_LOCAL=0 N_GOFAKES3=0 N_S3_STORE=0 N_OBJLOCK=0 N_S3=0 N_SQLITE=0 N_POSTGRES=0 N_SKIP=0
TOTAL_PASSED=0 TOTAL_FAILED=0

# show_failures LOG: prints what is needed to see why go test failed.
show_failures() {
    local log=$1
    section "failing tests"
    grep -E '^[[:space:]]*--- FAIL: ' "$log" | sed 's/^[[:space:]]*/    /' | head -n 200 || true

    section "output of failing tests (last 80 lines each)"
    awk -v maxlines=80 '
        /^=== (RUN|CONT|NAME) / { cur = $3; next }
        /^=== PAUSE / { next }
        /^[[:space:]]*--- FAIL: / {
            name = $3
            if (!(name in seen)) { seen[name] = 1; order[++n] = name }
            next
        }
        /^[[:space:]]*--- (PASS|SKIP): / { next }
        /^(ok|FAIL|PASS)([[:space:]]|$)/ { cur = ""; next }
        { if (cur != "") { cnt[cur]++; buf[cur, cnt[cur]] = $0 } }
        END {
            for (i = 1; i <= n; i++) {
                name = order[i]; c = cnt[name] + 0
                if (c == 0) continue
                print "----- " name
                start = (c > maxlines) ? c - maxlines + 1 : 1
                if (start > 1) print "    ... (" start - 1 " earlier lines cut)"
                for (j = start; j <= c; j++) print buf[name, j]
            }
        }' "$log" || true

    # Build errors, panics and data races, which may not belong to a test.
    if grep -q -E '^# |^panic: |WARNING: DATA RACE|\[(build|setup) failed\]' "$log"; then
        section "build errors, panics, data races"
        awk '
            /^# / { inbuild = 1; print; next }
            inbuild && /^(ok|FAIL|\?|=== )/ { inbuild = 0 }
            inbuild { print; next }
            /^panic: / { left = 60 }
            left > 0 && /^(ok|FAIL)[[:space:]]/ { print; left = 0; next }
            /WARNING: DATA RACE/ { race = 1; shown = 0 }
            race { if (shown++ < 60) print; if (/^==================$/ && shown > 1) race = 0; next }
            left > 0 { print; left--; next }
            /\[(build|setup) failed\]/ { print }
        ' "$log" | head -n 400 || true
    fi

    section "last 40 lines of go test output"
    tail -n 40 "$log" | sed 's/^/    /'
}

# The real backends must have run: a skipped real-backend suite is a failure.
step_backends() {
    local ok=0
    if [ "$N_S3" -eq 0 ]; then
        warn "no real-S3 test passed (TestStore/s3/..., TestObjectLock...): versitygw tests did not run"
        ok=1
    fi
    if [ "$N_POSTGRES" -eq 0 ]; then
        warn "no PostgreSQL test passed (TestCatalog/postgres/...): PostgreSQL tests did not run"
        ok=1
    fi
    if [ "$N_REPLICAS" -eq 0 ]; then
        warn "the two-replica test (TestTwoReplicasShareCatalogAndBucket, PostgreSQL + versitygw) did not pass"
        ok=1
    fi
    return "$ok"
}

# step_browser: the pages people use, in Debian's chromium driven by
# playwright-core (scripts/e2e.sh installs both if missing and starts its own
# server). Its pass/fail counts join the closing line.
step_browser() {
    local rc=0 log="$LOG_DIR/browser.log"
    run_logged browser bash scripts/e2e.sh || rc=$?
    local p f
    p=$(grep -oE '^ℹ pass [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    f=$(grep -oE '^ℹ fail [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    N_BROWSER=${p:-0}
    TOTAL_PASSED=$((TOTAL_PASSED + ${p:-0}))
    TOTAL_FAILED=$((TOTAL_FAILED + ${f:-0}))
    if [ "$rc" -eq 0 ] && [ "${p:-0}" -eq 0 ]; then
        warn "the browser suite ran no test"
        rc=1
    fi
    return "$rc"
}

# step_fuzz: a short run of every Fuzz target (FUZZTIME each, default 3s),
# so the parsers of outside input meet inputs nobody wrote down.
step_fuzz() {
    local rc=0 pkg fn n=0 t=${FUZZTIME:-3s}
    for pkg in $(go list ./...); do
        for fn in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
            if run_in_group "$LOG_DIR/fuzz-$fn.log" go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg"; then
                n=$((n + 1))
            else
                warn "fuzz $pkg $fn failed:"
                tail -n 30 "$LOG_DIR/fuzz-$fn.log" | sed 's/^/    /'
                TOTAL_FAILED=$((TOTAL_FAILED + 1))
                rc=1
            fi
        done
    done
    note "fuzzed $n targets for $t each"
    N_FUZZ=$n
    TOTAL_PASSED=$((TOTAL_PASSED + n))
    return "$rc"
}

# Steps run in this order; a step that needs the servers must come after
# `services` (they are stopped only at the end).
STEPS=(lint services go-tests backends browser fuzz)

# ---------------------------------------------------------------------------
# main

declare -A STEP_RESULT=() STEP_SECS=()
FAILED_STEPS=()
section "civicarchive CI: $(go version) on $(nproc) cores; repo $REPO_ROOT"
note "state dir $STATE_DIR, logs $LOG_DIR"
T_START=$SECONDS

for step in "${STEPS[@]}"; do
    section "$step"
    t0=$SECONDS
    if "step_${step//-/_}"; then
        STEP_RESULT[$step]=ok
    else
        STEP_RESULT[$step]=FAILED
        FAILED_STEPS+=("$step")
    fi
    STEP_SECS[$step]=$((SECONDS - t0))
done

section "stopping servers"
cleanup
note "done"

section "summary (total $((SECONDS - T_START))s)"
for step in "${STEPS[@]}"; do
    printf '    %-10s %-7s %4ss\n' "$step" "${STEP_RESULT[$step]}" "${STEP_SECS[$step]}"
done
echo
note "passed tests per backend (--- PASS lines incl. subtests):"
printf '      %-20s %5d\n' "blob local" "$N_LOCAL" "blob gofakes3" "$N_GOFAKES3"
printf '      %-20s %5d   (TestStore/s3/: %d, TestObjectLock: %d)\n' "blob s3 (versitygw)" "$N_S3" "$N_S3_STORE" "$N_OBJLOCK"
printf '      %-20s %5d\n' "catalog sqlite" "$N_SQLITE" "catalog postgres" "$N_POSTGRES"
printf '      %-20s %5d\n' "two replicas" "$N_REPLICAS"
printf '      %-20s %5d\n' "browser (chromium)" "$N_BROWSER" "fuzz targets" "$N_FUZZ"
note "skipped: $N_SKIP; full go test log: $GO_TEST_LOG"
RC=0
if [ "${#FAILED_STEPS[@]}" -gt 0 ]; then
    note "FAILED: ${FAILED_STEPS[*]}"
    RC=1
else
    note "all steps passed"
fi
printf '%d passed, %d failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
exit "$RC"
