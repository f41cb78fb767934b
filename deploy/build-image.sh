#!/usr/bin/env bash
# Builds the cgtree image from this checkout: a static cgtree (glibc, crt-static; no
# rustup target needed), then `podman build` of deploy/Containerfile (FROM scratch) with
# that binary as the only file. No registry is contacted.
#
# Usage: deploy/build-image.sh [--binary PATH] [--tag IMAGE]
#   --binary PATH  use this static cgtree instead of building one (it is checked to be static)
#   --tag IMAGE    image name (default localhost/cgtree:<workspace version>)
# Environment: CARGO_TARGET_DIR is honoured; PODMAN (default podman) is the podman to run.
# Prints the image name on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
tag=""
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --tag) tag="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "deploy/build-image.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$tag" ]; then
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
    tag="localhost/cgtree:${version:-dev}"
fi

target=x86_64-unknown-linux-gnu
if [ -z "$binary" ]; then
    # RUSTFLAGS with an explicit --target apply to the target only, not to build scripts and
    # proc macros (which must stay dynamic). rusqlite's bundled SQLite links in statically.
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo build --release --locked --target "$target" -p cgroup-cli --bin cgtree >&2
    binary="${CARGO_TARGET_DIR:-target}/$target/release/cgtree"
fi
[ -x "$binary" ] || { echo "deploy/build-image.sh: no executable $binary" >&2; exit 1; }

# A scratch image has no dynamic loader: refuse a binary that asks for one (an ELF
# program header of type PT_INTERP).
if LC_ALL=C readelf -lW "$binary" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    echo "deploy/build-image.sh: $binary is dynamically linked (it names a program interpreter)" >&2
    exit 1
fi
if ! command -v readelf >/dev/null 2>&1; then
    out=$(LC_ALL=C ldd "$binary" 2>&1 || true)
    case "$out" in
        *"not a dynamic executable"*|*"statically linked"*) ;;
        *) echo "deploy/build-image.sh: $binary is not static: $out" >&2; exit 1 ;;
    esac
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/cgtree-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$binary" "$ctx/cgtree"
chmod 0755 "$ctx/cgtree"
# The release profile keeps line tables (debug = 1) for the benchmarks; the image does
# not need them (symbols stay, for backtraces).
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$ctx/cgtree"; fi
cp deploy/Containerfile "$ctx/Containerfile"
# --network none: the build runs nothing, and must not fetch anything.
"${PODMAN:-podman}" build --network none --pull=never -f "$ctx/Containerfile" -t "$tag" "$ctx" >&2
echo "$tag"
