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

# The Node runtime client `fnguard local --runtime nodejs` runs handlers with
# (npm registry; cached per user where fnguard looks for it).
ric_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/fnguard/ric"
if command -v npm >/dev/null && [[ ! -f $ric_dir/node_modules/aws-lambda-ric/index.mjs ]]; then
  echo "install-deps: installing aws-lambda-ric@4.0.2 into $ric_dir"
  mkdir -p "$ric_dir"
  (cd "$ric_dir" && npm install --no-audit --no-fund --loglevel=error aws-lambda-ric@4.0.2) ||
    echo "install-deps: could not install aws-lambda-ric; fnguard local will retry on first use" >&2
fi
