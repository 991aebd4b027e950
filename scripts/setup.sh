#!/usr/bin/env bash
# Installs every Debian package the build and the tests need. Idempotent: packages already
# installed are skipped, and apt-get update runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  zlib1g-dev libdeflate-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev
  libyaml-cpp-dev libre2-dev libabsl-dev libcli11-dev libbenchmark-dev libssl-dev
  golang-github-google-pprof-dev
  prometheus
  jsonnet  # dashboards/generate.sh (jsonnet, jsonnetfmt)
  libcrypt-dev  # crypt_r(3) for bcrypt basic auth (web config)
  python3-yaml  # helm/tools/values_table.py (scripts/helm-test.sh)
  iproute2  # ss: the integration test reads the exporter's listen backlog
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The Debian prometheus package starts a system service on install; tests start their own
  # servers on free loopback ports, so the packaged one is stopped when it can be.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    $SUDO systemctl stop prometheus 2>/dev/null || $SUDO service prometheus stop 2>/dev/null || true
  fi
else
  echo "setup: all Debian packages present" >&2
fi

# Go and Node.js come with the machine, not from Debian: Debian 12's golang (1.19) is older
# than the examples' go.mod (1.22, which fetches newer toolchains itself through GOTOOLCHAIN),
# and its nodejs (18) older than the helm validator's packages want (20+).
if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go toolchain (1.22 or newer) not found on PATH; the fixtures and end-to-end tests need it" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: Node.js (20 or newer, with npm) not found on PATH; the dashboard type check and" \
    "the helm chart validation need it (the demo does not)" >&2
  [[ ${GX_SETUP_NEEDS_NODE:-1} == 0 ]] || exit 1
fi
