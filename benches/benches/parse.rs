//! Parser throughput over real-shaped inputs (bytes/s reported by criterion).

use cgroup_core::parse;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let procs: Vec<u8> = (70_000..80_000u32)
        .flat_map(|p| format!("{p}\n").into_bytes())
        .collect();
    let memory_stat: Vec<u8> = include_bytes!("data/memory.stat").to_vec();
    let io_stat: Vec<u8> = (0..64)
        .flat_map(|d| {
            format!(
                "{}:{} rbytes={} wbytes={} rios={} wios={} dbytes=0 dios=0\n",
                8 + d / 16,
                d % 16 * 16,
                d * 4096,
                d * 8192,
                d,
                d * 2
            )
            .into_bytes()
        })
        .collect();
    let status: Vec<u8> = include_bytes!("data/status").to_vec();
    let cmdline: Vec<u8> = b"/usr/bin/kubelet\0--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf\0--kubeconfig=/etc/kubernetes/kubelet.conf\0--config=/var/lib/kubelet/config.yaml\0--container-runtime-endpoint=unix:///run/containerd/containerd.sock\0--node-ip=10.89.0.2\0".to_vec();
    let mountinfo: Vec<u8> = (0..100)
        .flat_map(|i| format!("{} 1 0:{} / /mnt/m{} rw,relatime shared:{} - ext4 /dev/vd{} rw,errors=remount-ro\n", 100 + i, 30 + i, i, i, i).into_bytes())
        .chain(b"200 31 0:38 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n".iter().copied())
        .collect();
    let proc_cgroup = b"0::/user.slice/user-1000.slice/user@1000.service/app.slice/a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38/kubelet.slice/kubelet-kubepods.slice\n".to_vec();
    let bundle: Vec<u8> = include_bytes!("data/config.json").to_vec();
    vec![
        ("containerd-config.json", bundle),
        ("cgroup.procs-10k", procs),
        ("memory.stat", memory_stat),
        ("io.stat-64-devices", io_stat),
        ("proc-status", status),
        ("proc-cmdline", cmdline),
        ("mountinfo-101", mountinfo),
        ("proc-cgroup", proc_cgroup),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, input) in inputs() {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let i = black_box(&input[..]);
                match name {
                    "cgroup.procs-10k" => parse::pids(i)
                        .filter_map(Result::ok)
                        .map(u64::from)
                        .sum::<u64>(),
                    "memory.stat" => parse::flat_keyed(i)
                        .filter_map(Result::ok)
                        .map(|(_, v)| v)
                        .sum(),
                    "io.stat-64-devices" => parse::nested_keyed(i)
                        .filter_map(|l| l.get_u64("wbytes")?.ok())
                        .sum(),
                    "proc-status" => parse::status(i)
                        .ok()
                        .and_then(|s| s.ppid)
                        .map_or(0, u64::from),
                    "proc-cmdline" => parse::cmdline(i).count() as u64,
                    "containerd-config.json" => cgroup_core::runtime::containerd::parse_bundle(i)
                        .map_or(0, |b| b.pod.name.map_or(0, |n| n.len() as u64)),
                    "mountinfo-101" => parse::mountinfo(i)
                        .filter_map(Result::ok)
                        .filter(|m| m.is_cgroup2())
                        .count() as u64,
                    _ => parse::proc_pid_cgroup(i)
                        .ok()
                        .and_then(|p| p.unified)
                        .map_or(0, |u| u.len() as u64),
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
