#!/usr/bin/env bash
# CI's package test (issue #17): builds the .deb (packaging/build-deb.sh), checks it with
# lintian (no error, no warning), checks what it holds (dpkg-deb -c), installs it with dpkg into a new, empty directory tree
# (dpkg --root: an admin dir of its own, nothing of the host's package database
# touched), runs the installed cgtree --version, finds its manual page with man -w,
# checks that every /usr/share/doc/cgtree/ path the help texts name is installed,
# completes `cgtree me` and a cgroup path through the installed bash and fish scripts
# (zsh's is parsed), removes the package with dpkg -r, and checks that none of its files
# is left. Exits non-zero on the first failure; the tree is removed on every exit.
#
# Needs: cargo-deb, dpkg-dev, lintian, man-db, bash, fish, zsh (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

fail() {
    echo "test-deb.sh: FAIL: $*" >&2
    exit 1
}

deb=$(bash packaging/build-deb.sh | tail -n 1)
[ -f "$deb" ] || fail "no package built ($deb)"
echo "test-deb.sh: built $deb"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# 0. Debian's own checks: no error and no warning (overrides, if any, say why in
# packaging/debian/). The changelog's version is the package's.
lintian --fail-on error,warning --info "$deb" || fail "lintian (above)"
pkgversion=$(dpkg-deb -f "$deb" Version)
chversion=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' packaging/debian/changelog)
[ "$pkgversion" = "$chversion" ] ||
    fail "packaging/debian/changelog is at $chversion, the package at $pkgversion"

# 1. What the package holds.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' | sort > "$work/contents"
expect=(
    /usr/bin/cgtree
    /usr/share/man/man1/cgtree.1.gz
    /usr/share/man/man1/cgtree-top.1.gz
    /usr/share/man/man1/cgtree-provision-apply.1.gz
    /usr/share/bash-completion/completions/cgtree
    /usr/share/zsh/vendor-completions/_cgtree
    /usr/share/fish/vendor_completions.d/cgtree.fish
    /usr/share/doc/cgtree/README.md
    /usr/share/doc/cgtree/changelog.gz
    /usr/share/doc/cgtree/changelog.Debian.gz
    /usr/share/doc/cgtree/copyright
    /usr/share/doc/cgtree/docs/json.md
    /usr/share/doc/cgtree/docs/metrics.md
)
for p in "${expect[@]}"; do
    grep -qxF "$p" "$work/contents" || fail "$p not in the package"
done
# A page for every subcommand that `cgtree --help` lists.
subs=$("${CARGO_TARGET_DIR:-$PWD/target}/release/cgtree" --help | awk '
    /^Commands:$/ { inside = 1; next }
    inside && /^  [a-z]/ { if ($1 != "help") print $1; next }
    inside { exit }')
[ -n "$subs" ] || fail "no subcommands in cgtree --help"
for s in $subs; do
    grep -qxF "/usr/share/man/man1/cgtree-$s.1.gz" "$work/contents" ||
        fail "no manual page for $s in the package"
done
# Nothing outside /usr.
if grep -v '^/usr/' "$work/contents" | grep -qvxF '/'; then
    fail "files outside /usr: $(grep -v '^/usr/' "$work/contents" | tr '\n' ' ')"
fi

# 2. Install into an empty tree. The admin dir holds no package but the host's own
# stanzas of the packages cgtree depends on (libc6: dpkg checks the version that
# cargo-deb's $auto wrote, against the libc really installed), so no --force is needed.
# The log goes to the tree as well (dpkg's default is the host's /var/log/dpkg.log).
admin=$root/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
: > "$admin/available"
depends=$(dpkg-deb -f "$deb" Depends)
deps=$(printf '%s\n' "$depends" | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^$' || true)
for d in $deps; do
    dpkg-query -s "$d" >> "$admin/status" || fail "dependency $d not installed on this host"
    echo >> "$admin/status"
done
[ -f "$admin/status" ] || : > "$admin/status"
dpkg --root="$root" --log="$work/dpkg.log" -i "$deb" > "$work/install.log" 2>&1 ||
    fail "dpkg -i: $(cat "$work/install.log")"
status=$(dpkg-query --root="$root" -W -f '${Status}' cgtree)
[ "$status" = "install ok installed" ] || fail "status after dpkg -i: $status"

# 3. The installed program.
version=$("$root/usr/bin/cgtree" --version)
want="cgtree $(awk -F'"' '/^version = /{ print $2; exit }' Cargo.toml)"
[ "$version" = "$want" ] || fail "cgtree --version: '$version', expected '$want'"

# 4. Its manual pages, found by man through MANPATH only.
page=$(MANPATH="$root/usr/share/man" man -w cgtree) || fail "man -w cgtree"
[ "$page" = "$root/usr/share/man/man1/cgtree.1.gz" ] || fail "man -w cgtree: $page"
page=$(MANPATH="$root/usr/share/man" man -w cgtree-top) || fail "man -w cgtree-top"
[ "$page" = "$root/usr/share/man/man1/cgtree-top.1.gz" ] || fail "man -w cgtree-top: $page"
# It renders (groff warnings would be on stderr).
text=$(MANPATH="$root/usr/share/man" MANWIDTH=80 man cgtree 2> "$work/man.err" | head -n 20)
[ ! -s "$work/man.err" ] || fail "man cgtree: $(cat "$work/man.err")"
grep -q 'cgtree' <<< "$text" || fail "man cgtree rendered no name: $text"

# The documentation the help texts name (all of them: every subcommand's text is in its
# manual page) is installed where they say.
named=$(zcat "$root"/usr/share/man/man1/*.1.gz | grep -o '/usr/share/doc/cgtree/[A-Za-z0-9_./-]*' |
    sed 's/\.$//' | sort -u)
grep -qxF /usr/share/doc/cgtree/docs/json.md <<< "$named" ||
    fail "no help text names /usr/share/doc/cgtree/docs/json.md: $named"
for p in $named; do
    [ -f "$root$p" ] || fail "a help text names $p, which the package does not install"
done
# And no help text names the source tree's docs/ (not there after install).
relative=$(zcat "$root"/usr/share/man/man1/*.1.gz | grep -oE '[^ (]*docs/[a-z]+\.md' |
    grep -v '^/usr/share/doc/cgtree/docs/' || true)
[ -z "$relative" ] || fail "help texts name docs/ paths that are not installed: $relative"


# 5. Completion through the installed scripts, with the installed binary first in
# PATH (the scripts call `cgtree`, as /usr/bin/cgtree would be found).
export PATH="$root/usr/bin:$PATH"
fixture=$repo/fixtures/desktop
bash_complete() { # WORDS...: the candidates for the last word, one a line
    local script=$root/usr/share/bash-completion/completions/cgtree
    bash --norc --noprofile -c '
        source "$1"; shift
        # The function the script registered for cgtree.
        spec=$(complete -p cgtree) || exit 3
        fn=${spec##*-F }; fn=${fn%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        prev=""
        if [ "$#" -gt 1 ]; then prev=${COMP_WORDS[COMP_CWORD-1]}; fi
        "$fn" cgtree "${COMP_WORDS[COMP_CWORD]}" "$prev"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$script" "$@"
}
got=$(bash_complete cgtree me) || fail "bash completion failed"
[ "$got" = "metrics" ] || fail "bash: cgtree me -> '$got', expected metrics"
got=$(bash_complete cgtree --root "$fixture" /user.slice/u) || fail "bash completion failed"
[ "$got" = "/user.slice/user-1000.slice/" ] ||
    fail "bash: cgtree --root $fixture /user.slice/u -> '$got'"
fish_script=$root/usr/share/fish/vendor_completions.d/cgtree.fish
got=$(fish --no-config -c "source '$fish_script'; complete -C 'cgtree me'" | cut -f1) ||
    fail "fish completion failed"
[ "$got" = "metrics" ] || fail "fish: cgtree me -> '$got', expected metrics"
got=$(fish --no-config -c "source '$fish_script'; complete -C 'cgtree top --root $fixture /sys'" | cut -f1) ||
    fail "fish completion failed"
[ "$got" = "/system.slice/" ] || fail "fish: cgtree top /sys -> '$got'"
zsh -n "$root/usr/share/zsh/vendor-completions/_cgtree" || fail "zsh: the script does not parse"
head -n 1 "$root/usr/share/zsh/vendor-completions/_cgtree" | grep -qxF '#compdef cgtree' ||
    fail "zsh: no #compdef cgtree line"

# 6. Removal: dpkg -r leaves none of the package's files (it has no conffiles).
dpkg --root="$root" --log="$work/dpkg.log" -r cgtree > "$work/remove.log" 2>&1 ||
    fail "dpkg -r: $(cat "$work/remove.log")"
status=$(dpkg-query --root="$root" -W -f '${Status}' cgtree 2>/dev/null || true)
case $status in
    "" | "unknown ok not-installed" | "deinstall ok not-installed") ;;
    *) fail "status after dpkg -r: $status" ;;
esac
while read -r p; do
    [ "$p" = / ] && continue
    if [ -f "$root$p" ] || [ -L "$root$p" ]; then fail "$p left after dpkg -r"; fi
done < "$work/contents"
left=$(find "$root" -mindepth 1 -not -path "$admin" -not -path "$admin/*" -not -type d)
[ -z "$left" ] || fail "left after dpkg -r: $left"
echo "test-deb.sh: ok (lintian, contents, dpkg -i, --version, man -w, docs, bash/fish/zsh completion, dpkg -r)"
