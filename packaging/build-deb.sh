#!/usr/bin/env bash
# Builds cgtree's Debian package with cargo-deb: the release binary, the manual pages
# (cgtree(1) and one per subcommand, subcommands of subcommands included) and the bash,
# zsh and fish completion scripts, all generated from the built binary into
# $CARGO_TARGET_DIR/release/packaging/ (never committed), then packaged as
# cgroup-cli/Cargo.toml's [package.metadata.deb] lists them.
#
# Usage: packaging/build-deb.sh      (from anywhere; the .deb's path is the last line)
# Needs: cargo-deb (cargo install --locked cargo-deb@3.8.0) and dpkg-dev (dpkg-shlibdeps
# computes the package's Depends).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null 2>&1; then
    echo "build-deb.sh: cargo-deb is needed: cargo install --locked cargo-deb@3.8.0" >&2
    exit 2
fi
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -p cgroup-cli
bindir=$target/release
out=$bindir/packaging
rm -rf "$out"
mkdir -p "$out/man" "$out/completions"

# The subcommands of `cgtree WORDS...`, from its own --help ("Commands:" section).
subcommands() {
    "$bindir/cgtree" "$@" --help | awk '
        /^Commands:$/ { inside = 1; next }
        inside && /^  [a-z]/ { if ($1 != "help") print $1; next }
        inside { exit }'
}
# cgtree-WORDS(1) for `cgtree WORDS`, then the same for each of its subcommands.
pages() {
    local name=cgtree
    if [ "$#" -gt 0 ]; then name=cgtree-$(IFS=-; echo "$*"); fi
    "$bindir/cgtree" man "$@" > "$out/man/$name.1"
    local sub
    for sub in $(subcommands "$@"); do
        pages "$@" "$sub"
    done
}
pages
count=$(find "$out/man" -name '*.1' | wc -l)
if [ "$count" -lt 10 ]; then
    echo "build-deb.sh: only $count manual pages generated" >&2
    exit 1
fi
# Debian policy 12.1: pages are gzipped (-n: no name or time stamp, so a rebuild gives
# the same bytes). cargo-deb would not compress these (it takes what comes from the
# target directory as built).
gzip -9n "$out"/man/*.1
# The upstream changelog, under the name Debian policy 12.7 gives it (changelog.gz);
# packaging/debian/changelog is the package's own (changelog.Debian.gz, by cargo-deb).
gzip -9n < CHANGELOG.md > "$out/changelog.gz"

# Completion: the registration scripts of the completion computed at run time
# (cgroup paths, container and pod names: cgroup-cli/src/docs.rs). Run through $PATH,
# so that the scripts call `cgtree` (the installed /usr/bin/cgtree), not this build
# directory. The package ships the binary and the scripts of the same build, which is
# what clap_complete's unstable protocol between them needs.
for shell in bash zsh fish; do
    case $shell in
        bash) file=cgtree.bash ;;
        zsh) file=_cgtree ;;
        fish) file=cgtree.fish ;;
    esac
    PATH="$bindir:$PATH" COMPLETE=$shell cgtree > "$out/completions/$file"
    if ! grep -q cgtree "$out/completions/$file"; then
        echo "build-deb.sh: no $shell completion script" >&2
        exit 1
    fi
done

# --no-build: the binary above is the one the pages and scripts came from. --strip: the
# release profile keeps line tables (debug = 1) for profiling; the package does not
# need them (62 MB unstripped).
cargo deb -p cgroup-cli --no-build --strip --locked --output "$target/debian/" | tail -n 1
