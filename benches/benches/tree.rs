//! Tree builds over the largest fixture: with processes and identification, with
//! processes only, and cgroups only.

use cgroup_core::TreeBuilder;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/wsl-rootless-podman-kind"
    );
    let mut g = c.benchmark_group("tree/wsl-rootless-podman-kind");
    for (name, procs, identify) in [
        ("processes+identification", true, true),
        ("processes", true, false),
        ("cgroups-only", false, false),
    ] {
        let mut b = TreeBuilder::new();
        b.host_root(root)
            .processes(procs)
            .identify(identify)
            .include_empty(true);
        g.bench_function(name, |bench| {
            bench.iter(|| b.build().expect("fixture builds").nodes().len())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
