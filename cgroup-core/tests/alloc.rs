//! The hot parsers allocate nothing: a counting global allocator (per thread, so other
//! test threads do not disturb the count) sees zero allocations while they run.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::parse;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let r = std::hint::black_box(f());
    (ALLOCS.with(Cell::get) - before, r)
}

#[test]
fn counter_sees_allocations() {
    let (n, v) = allocations(|| vec![1u8; 100]);
    assert!(n >= 1, "the counting allocator must see a Vec");
    drop(v);
}

#[test]
fn hot_parsers_allocate_nothing() {
    let procs: Vec<u8> = (1..=10_000u32)
        .flat_map(|p| format!("{p}\n").into_bytes())
        .collect();
    let memory_stat = b"anon 1490944\nfile 5246976\nkernel 2146304\nkernel_stack 49152\npagetables 147456\nsec_pagetables 0\npercpu 480\nsock 0\nvmalloc 0\nshmem 0\nfile_mapped 2711552\npgfault 12345\nnew_kernel_key 7\n";
    let io_stat = b"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n253:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n";
    let pressure = b"some avg10=1.25 avg60=0.50 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    let proc_cgroup = b"9:name=systemd:/\n4:memory:/process_api/74e0b1f4\n0::/user.slice/user-1000.slice/user@1000.service/app.slice/a:b/container\n";
    let status = b"Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t75131\nPid:\t75131\nPPid:\t75102\nUid:\t100100\t100100\t100100\t100100\nGid:\t100100\t100100\t100100\t100100\nNSpid:\t75131\t1460\t2\nVmRSS:\t1234 kB\n";
    let cmdline = b"/usr/local/bin/containerd-shim-runc-v2\0-namespace\0k8s.io\0-id\0\x34796ab87414f85c7\0-address\0/run/containerd/containerd.sock\0";
    let uid_map = b"         0       1000          1\n         1     100000      65536\n";
    let mountinfo = b"22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

    let (n, sum) = allocations(|| {
        let mut sum = 0u64;
        for p in parse::pids(&procs) {
            sum += u64::from(p.unwrap());
        }
        for kv in parse::flat_keyed(memory_stat) {
            sum += kv.unwrap().1;
        }
        for line in parse::nested_keyed(io_stat) {
            sum += line.get_u64("wbytes").unwrap().unwrap();
            for pair in line.pairs() {
                sum += pair.unwrap().1.len() as u64;
            }
        }
        sum += parse::pressure(pressure).unwrap().some.unwrap().total;
        // The sampler's parsers.
        sum += parse::memory_stat(memory_stat).unwrap().anon.unwrap();
        sum += parse::cpu_stat(b"usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 7\nnr_throttled 2\nthrottled_usec 300\n")
            .unwrap()
            .throttled_usec
            .unwrap();
        sum += parse::memory_events(b"low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\noom_group_kill 5\n")
            .unwrap()
            .oom_kill
            .unwrap();
        for d in parse::io_stat(io_stat) {
            sum += d.unwrap().wbytes;
        }
        sum += parse::uevent_devname(b"MAJOR=8\nMINOR=0\nDEVNAME=sda\n")
            .unwrap()
            .len() as u64;
        let pc = parse::proc_pid_cgroup(proc_cgroup).unwrap();
        sum += pc.unified.unwrap().len() as u64 + u64::from(pc.v1_lines);
        let st = parse::status(status).unwrap();
        sum += u64::from(st.uid.unwrap()[0]) + u64::from(st.ppid.unwrap());
        for p in st.nspid.unwrap().iter() {
            sum += u64::from(p.unwrap());
        }
        sum += parse::cmdline(cmdline).map(|a| a.len() as u64).sum::<u64>();
        sum += parse::comm(b"nginx\n").len() as u64;
        for r in parse::id_map(uid_map) {
            sum += u64::from(r.unwrap().outside);
        }
        sum += parse::ns_link(b"user:[4026532263]").unwrap().inode;
        sum += parse::controllers(b"cpuset cpu io memory hugetlb pids rdma misc frob\n").count()
            as u64;
        sum += parse::ControllerSet::parse(b"cpu memory pids")
            .iter()
            .count() as u64;
        sum += parse::cgroup_type(b"domain threaded\n").is_ok() as u64;
        sum += parse::cgroup_events(b"populated 1\nfrozen 0\n")
            .unwrap()
            .populated
            .unwrap() as u64;
        for m in parse::mountinfo(mountinfo) {
            sum += m.unwrap().super_options.has("nsdelegate") as u64;
        }
        // Errors are built without allocating too.
        sum += parse::pids(b"1\nx\n").filter(|r| r.is_err()).count() as u64;
        sum
    });
    assert!(sum > 50_000_000, "the parsers really ran ({sum})");
    assert_eq!(n, 0, "hot parsers allocated {n} times");
}
