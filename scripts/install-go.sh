#!/usr/bin/env bash
# Makes a Go toolchain available for scripts/install-tools.sh (grpcurl, grpc-health-probe, buf, ghz are built from
# the Go module proxy). Uses the go on PATH or in /usr/local/go/bin when there is one; otherwise downloads Go's own
# release from the module proxy (golang.org/toolchain, the same zip `GOTOOLCHAIN` fetches), checks its pinned
# SHA-256 and unpacks it into .cache/go (PRISM_GO_ROOT). Idempotent.
# Usage: scripts/install-go.sh   (prints the directory holding `go` on its last line)
set -euo pipefail

version=1.26.8
declare -A sha256=(
  [amd64]=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
  [arm64]=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99
)
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
dest="${PRISM_GO_ROOT:-${root}/.cache/go}"

# PRISM_GO_IGNORE_SYSTEM=1 looks only at PRISM_GO_ROOT (how the test proves the download on a machine with Go).
candidates=("${dest}/bin")
[[ "${PRISM_GO_IGNORE_SYSTEM:-0}" == 1 ]] || candidates+=("$(dirname -- "$(command -v go 2>/dev/null || echo /nonexistent/go)")" /usr/local/go/bin)
for dir in "${candidates[@]}"; do
  if [[ -x "${dir}/go" ]]; then
    echo "${dir}"
    exit 0
  fi
done

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-go: no pinned Go release for $(uname -m); install Go ${version} by hand" >&2; exit 1 ;;
esac
proxy="${GOPROXY:-https://proxy.golang.org}"
proxy="${proxy%%,*}"
module="golang.org/toolchain@v0.0.1-go${version}.linux-${arch}"
url="${proxy}/golang.org/toolchain/@v/v0.0.1-go${version}.linux-${arch}.zip"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
echo "install-go: Go ${version} from ${url} (first run only)" >&2
curl -fsSL --retry 3 -o "${tmp}/go.zip" "${url}"
echo "${sha256[${arch}]}  ${tmp}/go.zip" | sha256sum -c --quiet - >&2 || { echo "install-go: checksum mismatch for ${url}" >&2; exit 1; }
if command -v unzip >/dev/null 2>&1; then
  unzip -q "${tmp}/go.zip" -d "${tmp}/x"
else
  python3 -m zipfile -e "${tmp}/go.zip" "${tmp}/x"
fi
rm -rf "${dest}"
mkdir -p "$(dirname -- "${dest}")"
mv "${tmp}/x/${module}" "${dest}"
# Zip entries carry no execute bit when python unpacks them.
chmod +x "${dest}/bin/"* "${dest}/pkg/tool/"*/* 2>/dev/null || true
"${dest}/bin/go" version >&2
echo "${dest}/bin"
