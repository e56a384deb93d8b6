#!/usr/bin/env bash
# Debian packages some tests need: Chromium (browser tests), a TLS- and Sentinel-capable redis-server
# (rediss:// and Sentinel tests; the embedded Valkey the other tests use has no TLS), curl (the README
# tour) and openssl (the TLS test's certificate). Installed only when missing and when we are root with
# apt-get (CI, fresh dev machines); otherwise those tests skip and say why, or fail under CI=true.
# Services are not started by the install (policy-rc.d), so nothing ends up listening on 6379.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)        # the README tour test runs the tour with curl
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # the TLS test makes a self-signed certificate
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; missing ${missing[*]} (their tests skip; with CI=true they fail)" >&2
  exit 0
fi
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
