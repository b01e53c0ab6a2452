#!/usr/bin/env bash
# Installs what fnguard needs to build and test, from Debian 12's packages and
# the npm registry only, and only what is missing. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev             # libFuzzer targets
  libyaml-dev                          # policy parser (YAML and JSON)
  rapidjson-dev                        # payload inspection: event JSON (header-only SAX)
  libseccomp-dev                       # kernel backstop
  liburing-dev                         # the io_uring evasion programs (tests/evasion)
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 nodejs npm
  zip unzip file busybox-static strace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A nodejs from another source (nodesource) provides npm itself.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
