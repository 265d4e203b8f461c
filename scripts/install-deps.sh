#!/usr/bin/env bash
# Installs what doppel needs to build and test on Debian 12, and nothing that is already there.
# Idempotent: a second run checks the packages and exits without touching apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libtorch-dev libfaiss-dev libxgboost-dev libopencv-dev
  libsqlite3-dev sqlite3 libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libutf8proc-dev
  # torch and FAISS share OpenMP threads: the OpenMP build of OpenBLAS keeps them from fighting.
  libopenblas0-openmp libopenblas-openmp-dev
  # tests: curl drives `doppel serve` end to end; chromium renders the review page in
  # tests/cli/review_browser.sh, driven over the DevTools protocol by python3-websocket
  curl chromium python3-websocket
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
