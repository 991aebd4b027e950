# goroutine-exporter container image.
#
#   podman build --isolation=chroot --pull=never -t goroutine-exporter .   (see scripts/container-test.sh)
#   docker build -t goroutine-exporter .
#
# Two stages: a full Debian toolchain builds the two binaries, and a bookworm-slim runtime
# carries only them plus the shared libraries they link (checked with `ldd`). The build uses
# Debian's packages only, the same ones scripts/setup.sh installs for developers.

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm AS build

# The build subset of scripts/setup.sh's PACKAGES: no test, benchmark, Go or Prometheus tools
# (the image is configured with -DGOROUTINE_BUILD_TESTS=OFF, so neither doctest nor protobuf,
# which only the tests use, is needed).
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build pkg-config binutils \
      zlib1g-dev libdeflate-dev \
      prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev \
      libyaml-cpp-dev libre2-dev libcli11-dev libssl-dev libcrypt-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY exporter/ exporter/

# Release build of the two binaries only (no tests, no benchmarks: tests/ and bench/ are not
# in the build context); symbols are stripped (the RelWithDebInfo binary is ~30 MB, mostly DWARF).
# .git is not in the build context (.dockerignore): the revision comes in as a build argument
# and goes into --version, build_info and the org.opencontainers.image.revision label.
ARG REVISION=unknown
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DGOROUTINE_BUILD_TESTS=OFF -DGOROUTINE_BUILD_BENCH=OFF -DGX_REVISION="${REVISION}" \
 && cmake --build build --parallel "$(nproc)" \
 && strip --strip-unneeded build/exporter/goroutine_exporter build/exporter/goroutine_triage \
 && build/exporter/goroutine_exporter --version

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="goroutine-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Go goroutine profiles: per-stack and per-leak-category goroutine metrics, diff and first-fix hints" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# Exactly the libraries `ldd goroutine_exporter` lists (libstdc++6, libgcc-s1, zlib1g and
# libcrypt1 are already in the base; they are named so the list stays complete if the base
# shrinks). ca-certificates: modules may scrape targets over https with the system CAs.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libprometheus-cpp-core1.0 libcpp-httplib0.11 libyaml-cpp0.7 libre2-9 \
      zlib1g libdeflate0 libssl3 libbrotli1 libcrypt1 libstdc++6 libgcc-s1 ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin nonroot

COPY --from=build /src/build/exporter/goroutine_exporter /src/build/exporter/goroutine_triage \
     /usr/local/bin/

# Fixed numeric UID/GID so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
WORKDIR /nonexistent

EXPOSE 9867

# No HEALTHCHECK on purpose. The runtime image has no HTTP client (no curl or wget), and the
# exporter's own binaries cannot ask its /-/healthy endpoint (`--version` would report healthy
# even when the HTTP server is wedged, which is worse than no check). Kubernetes ignores
# HEALTHCHECK anyway: the Helm chart uses httpGet probes on /-/healthy (liveness) and /-/ready
# (readiness). With plain Docker/podman, probe http://HOST:9867/-/healthy from outside.
#
# goroutine_triage (offline triage CLI) is in the image too:
#   podman run --rm --entrypoint goroutine_triage goroutine-exporter --help
ENTRYPOINT ["/usr/local/bin/goroutine_exporter"]
CMD ["--web.listen-address=:9867"]
