#!/usr/bin/env bash
# The published cgroup-core as a dependent gets it (issue #17): `cargo package`s the
# crate, unpacks the .crate into a new temporary directory (outside the workspace: no
# ../fixtures, no workspace Cargo.toml, no path dev-dependency, so no `internals`
# feature) and runs its doctests there, offline, against the crates already in
# CARGO_HOME (the workspace's Cargo.lock pins the same versions). A doctest that reads
# the repository or needs a private item fails here.
#
# Usage: packaging/test-core-crate.sh   (from anywhere). Its builds go to
# $CARGO_TARGET_DIR/core-crate-test (kept: a second run rebuilds only cgroup-core). The
# first run builds the dependencies (SQLite among them): about 80 s of CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$repo/target}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --no-verify: the verification build would be a second full build; the doctests below
# build it anyway. --allow-dirty: CI's clone is clean, a developer's tree may not be.
cargo package -p cgroup-core --locked --no-verify --allow-dirty --quiet
version=$(awk -F'"' '/^version = /{ print $2; exit }' Cargo.toml)
crate=$target/package/cgroup-core-$version.crate
[ -f "$crate" ] || { echo "test-core-crate.sh: no $crate" >&2; exit 1; }
tar -xzf "$crate" -C "$work"
dir=$work/cgroup-core-$version
# Not the path dev-dependency on itself with `internals`: cargo package drops it.
if grep -qF '[dev-dependencies.cgroup-core]' "$dir/Cargo.toml"; then
    echo "test-core-crate.sh: the packaged manifest still depends on itself" >&2
    exit 1
fi
# The workspace's versions (resolved offline; entries it does not need are dropped).
[ -f "$dir/Cargo.lock" ] || cp Cargo.lock "$dir/Cargo.lock"
cd "$dir"
if ! CARGO_TARGET_DIR=$target/core-crate-test cargo test --offline --doc > "$work/doc.log" 2>&1; then
    cat "$work/doc.log" >&2
    echo "test-core-crate.sh: FAIL: the packaged crate's doctests" >&2
    exit 1
fi
grep 'test result' "$work/doc.log"
grep -qE '^test result: ok\. [1-9][0-9]* passed' "$work/doc.log" ||
    { echo "test-core-crate.sh: no doctest passed" >&2; exit 1; }
echo "test-core-crate.sh: ok (cgroup-core $version's doctests, from its .crate, offline)"
