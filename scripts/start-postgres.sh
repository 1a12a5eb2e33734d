#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL server on loopback for the tests.
#
#   scripts/start-postgres.sh STATE_DIR
#
# - Installs PostgreSQL from Debian (apt-get install -y postgresql) if no server
#   binaries are found (needs root; CI runs as root).
# - Creates its own cluster (initdb) under STATE_DIR/pg, owned by the
#   `postgres` OS user when run as root, listening on 127.0.0.1 only, on a free
#   port (PORT=NNNN overrides). It never touches the machine's own cluster.
# - Creates role + database `civicarchive_test` with a random password.
# - Writes STATE_DIR/pg.env   (source it: exports CIVICARCHIVE_TEST_DATABASE_URL)
#   and    STATE_DIR/pg.stop  (run it: stops the server and removes its files).
#
# Environment: PORT (fixed port), PG_BINDIR (directory with initdb/pg_ctl),
#              PG_START_TIMEOUT (seconds to wait for readiness, default 60).
set -euo pipefail

log() { printf 'start-postgres: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 STATE_DIR"
mkdir -p "$1"
STATE_DIR=$(cd "$1" && pwd -P)
START_TIMEOUT=${PG_START_TIMEOUT:-60}
DB_NAME=civicarchive_test
DB_USER=civicarchive_test

# ---------------------------------------------------------------------------
# 1. Find (or install) the server binaries.
find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] && { echo "$PG_BINDIR"; return 0; }
        return 1
    fi
    local d
    # Debian layout: /usr/lib/postgresql/<major>/bin; prefer the newest major.
    # shellcheck disable=SC2012  # fixed, well-formed paths
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"; return 0
        fi
    done
    # Other layouts (e.g. a developer machine with initdb on PATH).
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"; return 0
    fi
    return 1
}

main_cluster_running() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 1
    pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" { found = 1 } END { exit !found }'
}

install_postgres() {
    [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and we are not root; install it (apt-get install postgresql) or set PG_BINDIR"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available"
    export DEBIAN_FRONTEND=noninteractive
    local t0=$SECONDS was_running=0
    main_cluster_running && was_running=1
    log "installing PostgreSQL from Debian (apt-get update; apt-get install -y postgresql)"
    local i
    # an earlier install that was interrupted leaves dpkg half-configured
    dpkg --configure -a >/dev/null 2>&1 || true
    for i in 1 2 3; do
        if apt-get -o DPkg::Lock::Timeout=300 update -qq; then break; fi
        log "apt-get update failed (attempt $i)"; sleep 5
    done
    for i in 1 2 3; do
        if apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends postgresql >/dev/null; then break; fi
        [ "$i" -eq 3 ] && die "apt-get install postgresql failed"
        log "apt-get install failed (attempt $i), retrying"; sleep 5
    done
    # The Debian package creates and may start a system cluster (15/main on
    # 5432). We do not use it; if the install started it, stop it again so that
    # nothing of ours is left running.
    if [ "$was_running" -eq 0 ] && main_cluster_running; then
        log "stopping the system cluster that the package install started"
        pg_lsclusters --no-header | awk '$4 == "online" { print $1, $2 }' | while read -r ver name; do
            pg_ctlcluster "$ver" "$name" stop || true
        done
    fi
    log "installed in $((SECONDS - t0))s"
}

if ! BINDIR=$(find_bindir); then
    install_postgres
    BINDIR=$(find_bindir) || die "PostgreSQL server binaries not found after install"
fi
log "using $("$BINDIR/postgres" --version) from $BINDIR"

# ---------------------------------------------------------------------------
# 2. Decide who runs the server and where its files live.
# initdb/postgres refuse to run as root: as root we run them as `postgres`.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' does not exist"
    RUNAS=(runuser -u postgres --)
    PG_OWNER=postgres
else
    RUNAS=()
    PG_OWNER=$(id -un)
fi
as_pg() { (cd / && "${RUNAS[@]}" "$@"); }

# The cluster lives in STATE_DIR/pg. STATE_DIR is typically a mktemp -d dir
# (mode 0700, owned by root): let others traverse it (no listing), then check
# that the postgres user really can reach it (every parent must be
# traversable). If not (e.g. STATE_DIR under /root), fall back to a private
# directory under /tmp.
PGROOT="$STATE_DIR/pg"
if [ "$(id -u)" -eq 0 ]; then
    chmod o+x "$STATE_DIR"
    mkdir -p "$PGROOT"
    chown "$PG_OWNER" "$PGROOT"
    chmod 0700 "$PGROOT"
    if ! as_pg test -w "$PGROOT"; then
        rm -rf "$PGROOT"
        PGROOT=$(mktemp -d "${TMPDIR:-/tmp}/civicarchive-pg.XXXXXX")
        chmod 0700 "$PGROOT"
        chown "$PG_OWNER" "$PGROOT"
        as_pg test -w "$PGROOT" || die "user $PG_OWNER cannot write $PGROOT"
        log "user $PG_OWNER cannot reach $STATE_DIR; using $PGROOT instead"
    fi
else
    mkdir -p "$PGROOT"
    chmod 0700 "$PGROOT"
fi
DATA="$PGROOT/data"
LOGFILE="$PGROOT/postgres.log"
[ -e "$DATA" ] && die "$DATA already exists (a server from an earlier run?); use a fresh STATE_DIR"

# ---------------------------------------------------------------------------
# 3. initdb: superuser `postgres` with a random password; peer auth on the
# (disabled) socket, scram-sha-256 over TCP.
randhex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
SUPER_PASS=$(randhex)
DB_PASS=$(randhex)
PWFILE="$PGROOT/superuser.pw"
( umask 077; printf '%s\n' "$SUPER_PASS" >"$PWFILE" )
if [ "$(id -u)" -eq 0 ]; then chown "$PG_OWNER" "$PWFILE"; fi

t0=$SECONDS
as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --pwfile="$PWFILE" \
    --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C \
    --no-instructions >"$PGROOT/initdb.log" 2>&1 \
    || { cat "$PGROOT/initdb.log" >&2; die "initdb failed"; }
rm -f "$PWFILE"

# Test-only tuning: durability off (the cluster is thrown away), loopback only,
# no Unix socket (avoids socket-path length limits and clashes).
cat >>"$DATA/postgresql.conf" <<'EOF'

# --- added by scripts/start-postgres.sh (throw-away test cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_min_error_statement = error
EOF

# ---------------------------------------------------------------------------
# 4. Write pg.stop before starting, so that a caller can always clean up.
STOP="$STATE_DIR/pg.stop"
{
    echo '#!/usr/bin/env bash'
    echo '# Stops the PostgreSQL server started by scripts/start-postgres.sh and removes its files.'
    echo 'set -u'
    printf 'DATA=%q; BINDIR=%q; PGROOT=%q\n' "$DATA" "$BINDIR" "$PGROOT"
    if [ "${#RUNAS[@]}" -gt 0 ]; then
        printf 'RUNAS=(%s)\n' "$(printf '%q ' "${RUNAS[@]}")"
    else
        echo 'RUNAS=()'
    fi
    cat <<'EOF'
as_pg() { (cd / && "${RUNAS[@]}" "$@"); }
# alive PID: the process exists and is not a zombie waiting to be reaped
alive() {
    local st
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
PID=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
if [ -n "$PID" ] && alive "$PID"; then
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
        || as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 \
        || kill -KILL "$PID" 2>/dev/null
    for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
fi
if [ -n "$PID" ] && alive "$PID"; then
    echo "pg.stop: postgres (pid $PID) is still running" >&2
    exit 1
fi
rm -rf "$PGROOT"
EOF
} >"$STOP"
chmod 0755 "$STOP"

# ---------------------------------------------------------------------------
# 5. Pick a port and start. A port counts as free when nothing accepts a TCP
# connection on 127.0.0.1:PORT; we retry on another port if the bind fails.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    return 1
}

STARTED=0
for attempt in 1 2 3 4 5; do
    if [ -n "${PORT:-}" ]; then
        PGPORT_CHOSEN=$PORT
        port_in_use "$PGPORT_CHOSEN" && die "port $PGPORT_CHOSEN (from PORT) is already in use"
    else
        PGPORT_CHOSEN=$(pick_port) || die "no free port found"
    fi
    if as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -o "-p $PGPORT_CHOSEN" \
            -w -t "$START_TIMEOUT" start >/dev/null 2>&1; then
        STARTED=1; break
    fi
    log "start on port $PGPORT_CHOSEN failed (attempt $attempt):"
    tail -n 20 "$LOGFILE" >&2 || true
    # make sure a half-started server is gone before retrying
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    [ -n "${PORT:-}" ] && break
done
[ "$STARTED" -eq 1 ] || { tail -n 30 "$LOGFILE" >&2 || true; "$STOP" || true; die "could not start PostgreSQL"; }
PG_PID=$(head -n 1 "$DATA/postmaster.pid")

# ---------------------------------------------------------------------------
# 6. Wait until it answers, then create the role and database.
export PGPASSWORD="$SUPER_PASS" PGCONNECT_TIMEOUT=5
deadline=$((SECONDS + START_TIMEOUT))
until "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT_CHOSEN" -d postgres -U postgres; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        tail -n 30 "$LOGFILE" >&2 || true
        "$STOP" || true
        die "PostgreSQL did not answer on 127.0.0.1:$PGPORT_CHOSEN within ${START_TIMEOUT}s"
    fi
    sleep 0.2
done

psql_super() {
    "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U postgres -d postgres
}
if ! psql_super >/dev/null <<EOF
CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF
then
    "$STOP" || true
    die "could not create role/database $DB_NAME"
fi
unset PGPASSWORD

URL="postgres://$DB_USER:$DB_PASS@127.0.0.1:$PGPORT_CHOSEN/$DB_NAME?sslmode=disable"
( umask 077; {
    echo "# written by scripts/start-postgres.sh; stop with $STOP"
    printf "export CIVICARCHIVE_TEST_DATABASE_URL='%s'\n" "$URL"
} >"$STATE_DIR/pg.env" )

log "PostgreSQL ready on 127.0.0.1:$PGPORT_CHOSEN (pid $PG_PID, data $DATA) in $((SECONDS - t0))s"
log "wrote $STATE_DIR/pg.env and $STOP"
