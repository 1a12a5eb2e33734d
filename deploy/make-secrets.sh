#!/usr/bin/env bash
# make-secrets.sh — make the secret files deploy/docker-compose.yml reads,
# once, before the first start. Never overwrites an existing file: a new
# secret_key would lock away every stored platform credential, and a new
# database password would no longer match the database.
#
#   secrets/secret_key         64 hex characters (credential encryption key)
#   secrets/postgres_password  PostgreSQL password
#   secrets/database_url       postgres://civicarchive:<password>@postgres:5432/civicarchive?sslmode=disable
#
# It also fills in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in
# civicarchive.env while they still say change-me.
#
# The directory is 0700 (only you can reach the files on this machine); the
# files are 0444 because the server runs as uid 65532 in its container and
# docker compose mounts them with their own owner and mode.
set -euo pipefail
cd "$(dirname "$0")"

command -v openssl >/dev/null || { echo "make-secrets: openssl is needed" >&2; exit 1; }

umask 077
mkdir -p secrets
chmod 0700 secrets

write() { # write NAME VALUE: create secrets/NAME unless it exists
	local f="secrets/$1"
	if [[ -e $f ]]; then
		echo "keep   $f (exists)"
		return
	fi
	printf '%s' "$2" >"$f"
	chmod 0444 "$f"
	echo "wrote  $f"
}

write secret_key "$(openssl rand -hex 32)"
if [[ -e secrets/postgres_password ]]; then
	password=$(cat secrets/postgres_password)
	echo "keep   secrets/postgres_password (exists)"
else
	password=$(openssl rand -hex 24)
	write postgres_password "$password"
fi
write database_url "postgres://civicarchive:${password}@postgres:5432/civicarchive?sslmode=disable"

if [[ ! -e civicarchive.env ]]; then
	cp civicarchive.env.example civicarchive.env
	chmod 0600 civicarchive.env
	echo "wrote  civicarchive.env (from the example: edit the city's settings)"
fi
fill() { # fill NAME PLACEHOLDER VALUE: replace NAME=PLACEHOLDER in civicarchive.env
	if grep -q "^$1=$2\$" civicarchive.env; then
		sed "s/^$1=$2\$/$1=$3/" civicarchive.env >civicarchive.env.tmp
		mv civicarchive.env.tmp civicarchive.env
		echo "filled $1 in civicarchive.env"
	fi
}
fill AWS_ACCESS_KEY_ID change-me "$(openssl rand -hex 10)"
fill AWS_SECRET_ACCESS_KEY change-me-too "$(openssl rand -hex 24)"

echo
echo "Back up secrets/secret_key now, somewhere other than the catalog backups:"
echo "without it, a restored catalog's platform credentials cannot be opened."
