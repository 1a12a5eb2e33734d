#!/usr/bin/env bash
# start-s3.sh STATE_DIR — start a throwaway versitygw S3 server (posix backend,
# versioning and so Object Lock enabled) for the storage tests.
#
# Writes:
#   STATE_DIR/s3.env  export CIVICARCHIVE_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID,
#                     AWS_SECRET_ACCESS_KEY, AWS_REGION (source it)
#   STATE_DIR/s3.pid  the server's PID; stop it with: kill "$(cat STATE_DIR/s3.pid)"
#   STATE_DIR/s3.log  the server's output
#   STATE_DIR/s3/     the server's data
#
# Environment: PORT (default: a free port), ROOT_ACCESS_KEY, ROOT_SECRET_KEY
# (default: fixed test credentials — this server is for tests only and listens
# on 127.0.0.1), VERSITYGW_VERSION (default v1.8.0).
set -euo pipefail

die() {
	echo "start-s3: $*" >&2
	exit 1
}

[[ $# -eq 1 ]] || die "usage: $0 STATE_DIR"
state_dir=$1
mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)

version=${VERSITYGW_VERSION:-v1.8.0}
access_key=${ROOT_ACCESS_KEY:-civicarchivetest}
secret_key=${ROOT_SECRET_KEY:-civicarchive-test-secret-key}

command -v go >/dev/null || die "go is not installed; it is needed to install versitygw"
gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
versitygw="$gobin/versitygw"
if [[ ! -x $versitygw ]]; then
	if command -v versitygw >/dev/null; then
		versitygw=$(command -v versitygw)
	else
		echo "start-s3: installing versitygw $version" >&2
		# GOFLAGS from a caller (e.g. -mod=vendor) must not leak into this install.
		GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$version" ||
			die "go install of versitygw $version failed"
	fi
fi

port_in_use() {
	# A successful connect means something listens there.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [[ -z ${PORT:-} ]]; then
	for _ in $(seq 1 50); do
		candidate=$((20000 + RANDOM % 20000))
		if ! port_in_use "$candidate"; then
			PORT=$candidate
			break
		fi
	done
	[[ -n ${PORT:-} ]] || die "found no free port"
elif port_in_use "$PORT"; then
	die "port $PORT is already in use"
fi

data_dir="$state_dir/s3/data"
versions_dir="$state_dir/s3/versions"
mkdir -p "$data_dir" "$versions_dir"
log="$state_dir/s3.log"

# One plain background command, so that $! is the server's own PID.
# --versioning-dir turns on bucket versioning for the posix backend, which
# Object Lock requires; no other flag is needed for Object Lock.
ROOT_ACCESS_KEY=$access_key ROOT_SECRET_KEY=$secret_key \
	"$versitygw" --port "127.0.0.1:$PORT" --quiet \
	posix --versioning-dir "$versions_dir" "$data_dir" >"$log" 2>&1 &
pid=$!
echo "$pid" >"$state_dir/s3.pid"

endpoint="http://127.0.0.1:$PORT"
# Any HTTP status (an anonymous GET gets 403) means the server answers.
deadline=$((SECONDS + 60))
until curl -s -o /dev/null --max-time 2 "$endpoint/"; do
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 20 "$log" >&2 || true
		die "versitygw exited before answering; see $log"
	fi
	if ((SECONDS >= deadline)); then
		kill "$pid" 2>/dev/null || true
		tail -n 20 "$log" >&2 || true
		die "versitygw did not answer on $endpoint within 60 s; see $log"
	fi
	sleep 0.2
done

cat >"$state_dir/s3.env" <<EOF
export CIVICARCHIVE_TEST_S3_ENDPOINT=$endpoint AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key AWS_REGION=us-east-1
EOF

echo "start-s3: versitygw (pid $pid) answers on $endpoint; source $state_dir/s3.env" >&2
