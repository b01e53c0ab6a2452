#!/usr/bin/env bash
# Installs what fnguard needs to build and test, from Debian 12's packages and
# the npm registry only, and only what is missing. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev             # libFuzzer targets
  lld                                  # links the wrapper with its cold-start code grouped
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

# The arm64 layer and its tests (fnguard layer build --arch arm64, the arm64
# enforcer run under qemu-user): Debian's cross toolchain, qemu-user and the
# arm64 builds of the two libraries fnguard links. Best effort: without them
# the arm64 tests skip and say why; FNGUARD_SKIP_ARM64=1 leaves them out.
if [[ ${FNGUARD_SKIP_ARM64:-0} != 1 ]]; then
  arm64_packages=(g++-aarch64-linux-gnu qemu-user libyaml-dev:arm64 libseccomp-dev:arm64)
  arm64_missing=()
  for p in "${arm64_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || arm64_missing+=("$p")
  done
  if ((${#arm64_missing[@]})); then
    echo "install-deps: installing ${arm64_missing[*]} (arm64 layer and tests)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { { dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64; } &&
           apt-get update -qq &&
           apt-get install -y -qq --no-install-recommends "${arm64_missing[@]}"; }; then
      echo "install-deps: could not install the arm64 toolchain; the arm64 layer and tests are skipped" >&2
    fi
  fi
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
