#!/usr/bin/env bash
# container-test.sh — builds the Dockerfile with podman (no Docker engine here) and tests the
# image end to end:
#   1. podman (+ buildah, runc, debootstrap) installed via apt when missing;
#   2. base images debian:bookworm and debian:bookworm-slim made from a debootstrap minbase
#      tarball (cached in build/container/) and `podman import`ed (skipped when present);
#   3. `podman build --isolation=chroot --pull=never -t goroutine-exporter:test .`;
#   4. the image's defaults: runs as 65532:65532, `--version`, the default CMD listening on
#      :9867 behind `-p 127.0.0.1:PORT:9867`, /-/healthy, /-/ready, /metrics through
#      `promtool check metrics`;
#   5. probe mode against a real Go target: tests/fixtures/leaky on the host loopback, an
#      exporter container in the host network namespace (so it can reach 127.0.0.1) with a
#      read-only root filesystem, all capabilities dropped, no-new-privileges and a mounted
#      config file; asserts goroutine_probe_success 1 and goroutine_goroutines > 60;
#   6. SIGTERM (podman stop) exits 0.
# Everything it starts is removed on exit. When it cannot run (not root, no apt, no podman),
# it prints one "SKIPPED: reason" line and exits 0; any failed check exits 1.
#
# Environment: IMAGE (default goroutine-exporter:test), BUILD_TIMEOUT seconds (default 2400),
# KEEP_IMAGE=1 keeps the built image (it is kept by default; set KEEP_IMAGE=0 to remove it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IMAGE=${IMAGE:-goroutine-exporter:test}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-2400}
KEEP_IMAGE=${KEEP_IMAGE:-1}
CACHE=$ROOT/build/container
WORK=$(mktemp -d /tmp/container-test.XXXXXX)
T0=$(date +%s)

log() { printf '== [%4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIPPED: %s\n' "$*"; exit 0; }

# ---- cleanup: only what this run started, by id --------------------------------------------
CONTAINERS=()
LEAKY_PID=""
cleanup() {
  local rc=$?
  for c in "${CONTAINERS[@]}"; do
    if [[ $rc -ne 0 ]]; then
      echo "---- logs of container $c" >&2
      podman logs "$c" 2>&1 | tail -n 30 >&2 || true
    fi
    podman rm -f -t 2 "$c" >/dev/null 2>&1 || true
  done
  if [[ -n $LEAKY_PID ]]; then kill "$LEAKY_PID" 2>/dev/null || true; wait "$LEAKY_PID" 2>/dev/null || true; fi
  if [[ $KEEP_IMAGE == 0 ]]; then podman rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools ------------------------------------------------------------------------------
need_tools=()
for t in podman buildah runc debootstrap; do command -v "$t" >/dev/null 2>&1 || need_tools+=("$t"); done
if ((${#need_tools[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    skip "container test needs ${need_tools[*]} and installing them needs root (running as uid $(id -u))"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    skip "container test needs ${need_tools[*]} and there is no apt-get to install them"
  fi
  log "installing podman buildah runc debootstrap"
  apt-get update -q >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; skip "apt-get update failed (no package mirror reachable?)"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs >>"$WORK/apt.log" 2>&1 \
    || { tail -n 20 "$WORK/apt.log" >&2; skip "apt-get install podman buildah runc debootstrap failed"; }
fi
if [[ $(id -u) -ne 0 ]]; then
  skip "debootstrap and rootful podman need root (running as uid $(id -u))"
fi
command -v curl >/dev/null 2>&1 || fail "curl is needed (scripts/setup.sh installs it)"
command -v go >/dev/null 2>&1 || skip "no Go toolchain on PATH to build the tests/fixtures/leaky target"
HAVE_PROMTOOL=1
command -v promtool >/dev/null 2>&1 || HAVE_PROMTOOL=0

# ---- 2. base images ------------------------------------------------------------------------
mkdir -p "$CACHE"
TARBALL=$CACHE/debian-bookworm-minbase.tar
for tag in docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim; do
  if podman image exists "$tag"; then
    log "base image $tag present"
    continue
  fi
  if [[ ! -s $TARBALL ]]; then
    # Inside an unprivileged container debootstrap cannot make device nodes (nor podman run).
    if ! mknod "$WORK/dev-null-test" c 1 3 2>/dev/null; then
      skip "cannot create device nodes here (inside an unprivileged container?): debootstrap and podman cannot run"
    fi
    rm -f "$WORK/dev-null-test"
    log "debootstrap --variant=minbase bookworm (about a minute; cached in $TARBALL)"
    rootfs=$WORK/rootfs
    timeout 900 debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian \
      >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$rootfs"
  fi
  log "podman import $tag"
  podman import --change 'CMD ["/bin/bash"]' "$TARBALL" "$tag" >"$WORK/import.log" 2>&1 \
    || { cat "$WORK/import.log" >&2; fail "podman import $tag failed"; }
done

# ---- 3. build ------------------------------------------------------------------------------
# The Dockerfile's build stage lists its packages; each must be one scripts/setup.sh installs for
# developers too (binutils comes with build-essential), so the two lists cannot drift apart.
setup_pkgs=$(sed -n '/^PACKAGES=(/,/^)/p' scripts/setup.sh | sed 's/#.*//' | tr -s ' \t' '\n')
docker_pkgs=$(awk '/^FROM .* AS build/ {b=1} /^FROM / && !/AS build/ {b=0}
  b && /apt-get install/ {i=1} b && i {print} b && i && !/\\$/ {i=0}' Dockerfile \
  | sed 's/.*--no-install-recommends//; s/&&.*//; s/\\//' | tr -s ' \t' '\n' | grep -v '^$')
for p in $docker_pkgs; do
  [[ $p == binutils ]] && continue
  grep -qx -- "$p" <<<"$setup_pkgs" || fail "Dockerfile build stage installs $p, which scripts/setup.sh does not"
done

REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The commit time, not the build time: reruns of the same commit reuse every cached layer.
CREATED=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
OLD_ID=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build -t $IMAGE (first build takes several minutes: apt + C++ compile)"
tb=$(date +%s)
if ! timeout "$BUILD_TIMEOUT" podman build --isolation=chroot --pull=never \
    --build-arg REVISION="$REVISION" --build-arg CREATED="$CREATED" \
    -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log" >&2
  fail "podman build failed (log above)"
fi
cp "$WORK/build.log" "$CACHE/last-build.log"
NEW_ID=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [[ -n $OLD_ID && $OLD_ID != "$NEW_ID" ]]; then
  podman rmi "$OLD_ID" >"$WORK/rmi.log" 2>&1 || { echo "note: could not remove the previous image $OLD_ID:" >&2; cat "$WORK/rmi.log" >&2; }
fi
log "podman build done in $(($(date +%s) - tb))s; size $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"

# ---- 4. image defaults ---------------------------------------------------------------------
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[[ $user == "65532:65532" ]] || fail "image User is '$user', want 65532:65532"
entry=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
[[ $entry == '["/usr/local/bin/goroutine_exporter"]' ]] || fail "image Entrypoint is $entry"
ports=$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$IMAGE")
[[ $ports == *'9867/tcp'* ]] || fail "image does not EXPOSE 9867/tcp: $ports"
title=$(podman image inspect --format '{{index .Config.Labels "org.opencontainers.image.title"}}' "$IMAGE")
[[ $title == goroutine-exporter ]] || fail "OCI title label is '$title'"
log "image config: User=$user Entrypoint=$entry ExposedPorts=$ports revision=$REVISION"

RUN=(podman --runtime runc run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
version=$("${RUN[@]}" --rm "$IMAGE" --version)
[[ $version == goroutine_exporter* ]] || fail "--version printed '$version'"
triage=$("${RUN[@]}" --rm --entrypoint /usr/local/bin/goroutine_triage "$IMAGE" --help 2>&1 || true)
[[ -n $triage ]] || fail "goroutine_triage --help printed nothing"
log "--version: $version; goroutine_triage runs"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # URL SECONDS
  local url=$1 deadline=$(($(date +%s) + $2))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.3
  done
}

host_uid_of() { # CONTAINER -> uid of its main process as seen from the host (/proc)
  local pid
  pid=$(podman inspect --format '{{.State.Pid}}' "$1")
  awk '/^Uid:/ {print $2}' "/proc/$pid/status"
}

# 4a. default CMD (:9867) published on a loopback port.
PUB_PORT=$(free_port)
name=gx-ctest-pub-$$
cid=$("${RUN[@]}" -d --name "$name" -p "127.0.0.1:$PUB_PORT:9867" "$IMAGE")
CONTAINERS+=("$cid")
wait_http "http://127.0.0.1:$PUB_PORT/-/healthy" 30 || fail "/-/healthy not answering on published port $PUB_PORT"
curl -fsS --max-time 5 "http://127.0.0.1:$PUB_PORT/-/ready" >/dev/null || fail "/-/ready failed"
uid=$(host_uid_of "$cid")
[[ $uid == 65532 ]] || fail "exporter process runs as uid $uid, want 65532"
curl -fsS --max-time 10 "http://127.0.0.1:$PUB_PORT/metrics" >"$WORK/metrics.txt" || fail "/metrics failed"
grep -q '^goroutine_exporter_build_info' "$WORK/metrics.txt" || fail "/metrics lacks goroutine_exporter_build_info"
grep -q '^process_' "$WORK/metrics.txt" || fail "/metrics lacks process_* metrics"
if ((HAVE_PROMTOOL)); then
  promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics rejected /metrics"
  log "/metrics passes promtool check metrics"
else
  echo "SKIPPED: promtool check metrics (promtool not installed; scripts/setup.sh installs the prometheus package)"
fi
log "published-port container OK (port $PUB_PORT -> 9867, uid $uid)"

# ---- 5. probe a real Go target -------------------------------------------------------------
log "building tests/fixtures/leaky"
mkdir -p "$CACHE/go-bin"
(cd tests/fixtures/leaky && timeout 600 go build -trimpath -o "$CACHE/go-bin/leaky" .) \
  || fail "go build tests/fixtures/leaky failed"
"$CACHE/go-bin/leaky" -listen 127.0.0.1:0 -rounds 2 >"$WORK/leaky.out" 2>"$WORK/leaky.err" &
LEAKY_PID=$!
deadline=$(($(date +%s) + 30))
until grep -q '^listening on ' "$WORK/leaky.out"; do
  kill -0 "$LEAKY_PID" 2>/dev/null || { cat "$WORK/leaky.err" >&2; fail "leaky exited"; }
  (($(date +%s) < deadline)) || fail "leaky did not print 'listening on'"
  sleep 0.2
done
LEAKY_ADDR=$(sed -n 's/^listening on //p' "$WORK/leaky.out" | head -n1)
log "leaky listening on $LEAKY_ADDR"

# The container shares the host network namespace so that it reaches the target on 127.0.0.1
# (a published-port container has its own loopback). Hardened like the Helm chart's pod:
# read-only root, no capabilities, no privilege escalation, config from a mounted file.
cat >"$WORK/config.yml" <<'EOF'
modules:
  default:
    timeout: 10s
    top_k: 20
probe:
  allowed_targets:
    cidrs: ["127.0.0.1/32"]
EOF
chmod 0644 "$WORK/config.yml"
chmod 0755 "$WORK"
"${RUN[@]}" --rm -v "$WORK/config.yml:/etc/goroutine-exporter/config.yml:ro" "$IMAGE" \
  --config.check --config.file /etc/goroutine-exporter/config.yml >"$WORK/config-check.log" 2>&1 \
  || { cat "$WORK/config-check.log" >&2; fail "--config.check in the image rejected the test config"; }
HOST_PORT=$(free_port)
name=gx-ctest-host-$$
cid=$("${RUN[@]}" -d --name "$name" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges \
  -v "$WORK/config.yml:/etc/goroutine-exporter/config.yml:ro" \
  "$IMAGE" --web.listen-address "127.0.0.1:$HOST_PORT" \
  --config.file /etc/goroutine-exporter/config.yml)
CONTAINERS+=("$cid")
wait_http "http://127.0.0.1:$HOST_PORT/-/healthy" 30 || fail "/-/healthy not answering on 127.0.0.1:$HOST_PORT (host network)"
uid=$(host_uid_of "$cid")
[[ $uid == 65532 ]] || fail "exporter process runs as uid $uid, want 65532"

curl -fsS --max-time 20 "http://127.0.0.1:$HOST_PORT/probe?target=$LEAKY_ADDR&module=default" \
  >"$WORK/probe.txt" || fail "/probe?target=$LEAKY_ADDR failed"
grep -qx 'goroutine_probe_success 1' "$WORK/probe.txt" \
  || { grep '^goroutine_probe' "$WORK/probe.txt" >&2; fail "goroutine_probe_success is not 1"; }
total=$(awk '$1 == "goroutine_goroutines" {print $2}' "$WORK/probe.txt")
[[ -n $total ]] || fail "probe output has no goroutine_goroutines sample"
awk -v t="$total" 'BEGIN {exit !(t > 60)}' || fail "goroutine_goroutines is $total, want > 60 (leaky -rounds 2)"
grep -q '^goroutine_category_goroutines{.*category="chan_send"' "$WORK/probe.txt" \
  || fail "probe output lacks a chan_send category series"
if ((HAVE_PROMTOOL)); then
  promtool check metrics <"$WORK/probe.txt" || fail "promtool check metrics rejected /probe output"
fi
# The allowlist from the mounted config is in force: a target outside 127.0.0.1/32 is refused
# (127.0.0.2 is still loopback, so nothing leaves the machine even if the check were broken).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
  "http://127.0.0.1:$HOST_PORT/probe?target=127.0.0.2:9") || true
[[ $code =~ ^4 ]] || fail "probe of a target outside the allowlist answered HTTP $code, want 4xx"
curl -fsS --max-time 10 "http://127.0.0.1:$HOST_PORT/metrics" >"$WORK/metrics2.txt"
grep -q '^goroutine_exporter_probes_total' "$WORK/metrics2.txt" || fail "/metrics lacks goroutine_exporter_probes_total"
log "probe OK: goroutine_probe_success 1, goroutine_goroutines $total (read-only root, caps dropped, uid $uid); allowlist refuses 127.0.0.2 with HTTP $code"

# ---- 6. SIGTERM exits 0 --------------------------------------------------------------------
podman stop -t 10 "$cid" >/dev/null
rc=$(podman inspect --format '{{.State.ExitCode}}' "$cid")
[[ $rc == 0 ]] || fail "exporter exited $rc on SIGTERM, want 0"
log "SIGTERM: exit code 0"

echo "container-test: all checks passed in $(($(date +%s) - T0))s (image $IMAGE)"
