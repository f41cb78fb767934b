#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 300), WORKERS at a time (default 1), seeding
# each corpus from the fixtures; prints one summary line per target (runs, crashes).
# Needs a nightly toolchain and cargo-fuzz: `cargo install cargo-fuzz`.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-300}"
logs="${FUZZ_LOGS:-/tmp/cgtree-fuzz}"
mkdir -p "$logs"
seed() { # target, glob...
    local t=$1; shift
    mkdir -p "corpus/$t"
    for f in "$@"; do [ -f "$f" ] && cp "$f" "corpus/$t/$(echo "$f" | md5sum | cut -c1-16)" 2>/dev/null; done
}
fx=../fixtures
seed cgroup_type $fx/*/sys/fs/cgroup/*/cgroup.type $fx/hybrid-host/sys/fs/cgroup/unified/*/cgroup.type
seed pids $fx/*/sys/fs/cgroup/*/*/cgroup.procs $fx/odd-names/sys/fs/cgroup/bad-procs/cgroup.procs
seed controllers $fx/*/sys/fs/cgroup/*/cgroup.controllers
seed flat_keyed ../benches/benches/data/memory.stat $fx/odd-names/sys/fs/cgroup/*/cgroup.events \
    $fx/stats-kind/sys/fs/cgroup/*/{cpu.stat,memory.stat,memory.events} $fx/stats-kind/sys/dev/block/*/uevent
seed nested_keyed /sys/fs/cgroup/unified/cpu.pressure /sys/fs/cgroup/unified/io.pressure \
    $fx/stats-kind/sys/fs/cgroup/*/{io.stat,memory.pressure}
seed proc_cgroup $fx/hybrid-host/proc/*/cgroup $fx/wsl-rootless-podman-kind/proc/7*/cgroup
seed cmdline $fx/wsl-rootless-podman-kind/proc/7*/cmdline
seed status $fx/wsl-rootless-podman-kind/proc/7*/status
seed id_map $fx/wsl-rootless-podman-kind/proc/7*/uid_map
seed passwd $fx/*/etc/passwd $fx/*/proc/*/root/etc/passwd
seed mountinfo $fx/*/proc/self/mountinfo
seed json_bundle $fx/wsl-rootless-podman-kind/proc/70678/root/run/containerd/io.containerd.runtime.v2.task/k8s.io/*/config.json
seed runtime_names $fx/nspawn/run/systemd/machines/* $fx/lxc/var/lib/lxc/*/config $fx/*/proc/*/cmdline
seed json_podman $fx/*/home/*/.local/share/containers/storage/overlay-containers/containers.json $fx/*/var/lib/containers/storage/overlay-containers/containers.json
seed json_docker $fx/*/var/lib/docker/containers/*/config.v2.json
seed json_runtime_state $fx/*/run/crun/*/status $fx/*/run/runc/*/state.json $fx/*/run/user/*/crun/*/status
seed config_edit $fx/wsl-provisioned/etc/wsl.conf $fx/wsl-provisioned/etc/containers/containers.conf $fx/wsl-provisioned/mnt/c/Users/massi/.wslconfig
mkdir -p corpus/ns_link && printf 'user:[4026532263]' > corpus/ns_link/seed
# A cgroup created under id 77 (FAN_CREATE|FAN_ONDIR, DFID_NAME and FID records).
mkdir -p corpus/fanotify && printf '\x54\x00\x00\x00\x03\x00\x18\x00\x00\x01\x00\x40\x00\x00\x00\x00\xff\xff\xff\xff\x2a\x00\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\xfe\x00\x00\x00\x4d\x00\x00\x00\x00\x00\x00\x00\x70\x6f\x64\x00\x01\x00\x1c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\xfe\x00\x00\x00\x4e\x00\x00\x00\x00\x00\x00\x00' > corpus/fanotify/seed
cargo +nightly fuzz build -O >"$logs/build.log" 2>&1 || { echo "fuzz build failed: $logs/build.log"; exit 1; }
rm -rf "$logs/locks"
exec ./run-parallel.sh "$secs" "${WORKERS:-1}"
