#!/usr/bin/env bash
# Installs the independent ZIP tools the export tests check bundles with:
# Info-ZIP unzip, 7-Zip (7z) and libarchive's bsdtar, from Debian, if any is
# missing. Needs root (apt-get) only when one is missing.
set -euo pipefail
missing=()
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v 7z >/dev/null 2>&1 || missing+=(p7zip-full)
command -v bsdtar >/dev/null 2>&1 || missing+=(libarchive-tools)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "zip tools: all present"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "zip tools: missing ${missing[*]} and not root" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || { echo "zip tools: missing ${missing[*]} and no apt-get" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
for i in 1 2 3; do
    if apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        echo "zip tools: installed ${missing[*]}"
        exit 0
    fi
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    echo "zip tools: apt-get install failed (attempt $i)" >&2
    sleep 3
done
exit 1
