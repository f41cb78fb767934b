//! Tree builds over the largest fixture, with and without processes.

use cgroup_core::TreeBuilder;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/wsl-rootless-podman-kind"
    );
    let mut g = c.benchmark_group("tree/wsl-rootless-podman-kind");
    for (name, procs) in [("with-processes", true), ("without-processes", false)] {
        let mut b = TreeBuilder::new();
        b.host_root(root).processes(procs).include_empty(true);
        g.bench_function(name, |bench| {
            bench.iter(|| b.build().expect("fixture builds").nodes().len())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
