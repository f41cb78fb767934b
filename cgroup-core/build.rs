//! Builds the BPF programs of the `bpf` feature (src/bpf/cgtree.bpf.c) with clang and
//! generates their libbpf-rs skeleton in OUT_DIR. Without the feature: nothing.

fn main() {
    #[cfg(feature = "bpf")]
    bpf();
}

#[cfg(feature = "bpf")]
fn bpf() {
    let src = "src/bpf/cgtree.bpf.c";
    for f in [src, "src/bpf/kernel.h", "src/bpf/cgtree.h"] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-env-changed=CLANG");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let mut b = libbpf_cargo::SkeletonBuilder::new();
    b.source(src);
    if let Some(clang) = std::env::var_os("CLANG") {
        b.clang(clang);
    }
    if let Err(e) = b
        .clang_args(["-Wall", "-Werror"])
        .build_and_generate(out.join("cgtree.skel.rs"))
    {
        // The whole chain of causes: clang missing, a compile error, ...
        panic!("building {src} (feature `bpf` needs clang): {e:#}");
    }
}
