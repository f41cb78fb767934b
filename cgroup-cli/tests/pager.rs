//! The pager: on a terminal (tmux) the one-shot texts go through `$SYSTEMD_PAGER`,
//! `$PAGER` or `less` with `LESS=FRSXMK`, as systemd's tools; never into a pipe, never
//! with `--no-pager`, never for the streams; quitting the pager early is a clean end.
//!
//! Pagers here are shell scripts that record that they ran (and their `LESS`) and save
//! what they were given; the default `less` is driven for real.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::tmux::Tmux;
use std::fs;
use std::path::{Path, PathBuf};

const KIND: &str = "arch-docker-kind";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cgtree")
}

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("fixtures").join(name)
}

/// A root with 3,000 empty cgroups (`-a` prints each): about 160 KB of text, more than a
/// pipe holds, so cgtree is still writing when the pager quits.
fn many_cgroups() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let cg = d.path().join("sys/fs/cgroup");
    fs::create_dir_all(d.path().join("proc")).unwrap();
    fs::create_dir_all(&cg).unwrap();
    fs::write(cg.join("cgroup.procs"), "").unwrap();
    for i in 0..3000 {
        let c = cg.join(format!("many-cgroups-for-a-long-paged-output-{i:04}.scope"));
        fs::create_dir(&c).unwrap();
        fs::write(c.join("cgroup.procs"), "").unwrap();
    }
    d
}

/// A recording pager named `name` in `dir`: writes `LESS=$LESS` to NAME.ran and its
/// input to NAME.out.
fn recorder(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    fs::write(
        &p,
        "#!/bin/sh\nprintf 'LESS=%s\\n' \"$LESS\" > \"$0.ran\"\ncat > \"$0.out\"\n",
    )
    .unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn ran(pager: &Path) -> Option<String> {
    fs::read_to_string(pager.with_extension("ran")).ok()
}

fn has_line(screen: &str, needle: &str) -> bool {
    screen.lines().any(|l| l.contains(needle))
}

/// The PIDs of `pid`'s children (its main thread's).
fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The default pager is `less` with LESS=FRSXMK: on a 100x20 terminal it shows the first
/// screen of a long tree with its long prompt (`M`) and holds cgtree (which waits for
/// it); `q` before the end ends both, with status 0 and no message, though cgtree was
/// still writing (a broken pipe is a quiet end).
#[test]
fn default_less_pages_a_long_tree_and_q_is_a_clean_end() {
    let root = many_cgroups();
    let cmd = format!(
        "env -u PAGER -u SYSTEMD_PAGER -u SYSTEMD_LESS -u LESS -u NO_COLOR TERM=xterm-256color \
         '{}' --root '{}' -a; echo cgtree-exit=$?; sleep 60",
        bin(),
        root.path().display()
    );
    let t = Tmux::start_sized("pager-less", &cmd, 100, 20);
    // less -M: "lines 1-19..." on the last line.
    let s = t.wait("less's first screen", |s| {
        s.lines().last().is_some_and(|l| l.contains("lines 1-19"))
    });
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("/ (cgroup2 on /sys/fs/cgroup)"), "{s}");
    assert!(
        lines[1].contains("many-cgroups-for-a-long-paged-output-0000.scope"),
        "{s}"
    );
    assert!(
        !has_line(&s, "cgtree-exit="),
        "cgtree waits for the pager:\n{s}"
    );
    // The pager is cgtree's child, and it is less.
    let shell: u32 = t.format("#{pane_pid}").parse().unwrap();
    let cgtree = children(shell)
        .into_iter()
        .find(|&p| comm(p) == "cgtree")
        .unwrap_or_else(|| panic!("cgtree under the shell {shell}"));
    let pagers: Vec<String> = children(cgtree).into_iter().map(comm).collect();
    assert_eq!(pagers, ["less"], "{s}");
    // It is still writing: 160 KB do not fit in the pipe (where the kernel shows it).
    let wchan = fs::read_to_string(format!("/proc/{cgtree}/wchan")).unwrap_or_default();
    if !matches!(wchan.trim(), "" | "0") {
        assert!(wchan.contains("pipe_write"), "blocked in {wchan}");
    }

    t.send(&["q"]);
    let s = t.wait("cgtree to exit", |s| has_line(s, "cgtree-exit="));
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
    assert!(!s.lines().any(|l| l.starts_with("cgtree:")), "{s}");
}

/// The choice of pager and its environment, on a terminal: `$SYSTEMD_PAGER` before
/// `$PAGER`; empty or `cat` means none; `--no-pager`; `LESS` from `$SYSTEMD_LESS`; a
/// command with arguments through `sh -c`; one that cannot start leaves the output on
/// the terminal (status 0); a pipe is never paged; the streams (`metrics`) are not paged;
/// `pid` and `userns` are. What the pager gets is the whole width (not cut to the 100
/// columns of the terminal) and coloured (decided from the terminal).
#[test]
fn pager_choice_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fx = fixture(KIND);
    let p = |name: &str| recorder(d, name);
    let b12 = p("b12");
    let (a1, b1, b2, b3, c4, b5, b6, b7, b8, b9, b10) = (
        p("a1"),
        p("b1"),
        p("b2"),
        p("b3"),
        p("cat"),
        p("b5"),
        p("b6"),
        p("b7"),
        p("b8"),
        p("b9"),
        p("b10"),
    );
    let cg = format!("'{}' --root '{}'", bin(), fx.display());
    let res = d.join("results");
    let res_path = res.display();
    let script = format!(
        "cd '{d}'; export TERM=xterm-256color; unset NO_COLOR PAGER SYSTEMD_PAGER SYSTEMD_LESS LESS
SYSTEMD_PAGER='{a1}' PAGER='{b1}' {cg}; echo case1=$? >> '{res_path}'
PAGER='{b2}' SYSTEMD_LESS=XY {cg}; echo case2=$? >> '{res_path}'
SYSTEMD_PAGER= PAGER='{b3}' {cg}; echo case3=$? >> '{res_path}'
PATH='{d}':$PATH PAGER=cat {cg}; echo case4=$? >> '{res_path}'
PAGER='{b5}' {cg} --no-pager; echo case5=$? >> '{res_path}'
PAGER='{b6}' {cg} | cat > '{d}/piped'; echo case6=$? >> '{res_path}'
PAGER='{b7}' {cg} metrics; echo case7=$? >> '{res_path}'
PAGER='{b8}' {cg} pid 1; echo case8=$? >> '{res_path}'
PAGER='{b9}' {cg} userns; echo case9=$? >> '{res_path}'
PAGER='{b10} --an-argument' {cg} ids; echo case10=$? >> '{res_path}'
PAGER='{b12}' {cg} pid 1 4000000; echo case12=$? >> '{res_path}'
clear; PAGER=/nonexistent/pager {cg} pid 1; echo case11=$? >> '{res_path}'; echo all-done; sleep 60",
        d = d.display(),
        a1 = a1.display(),
        b1 = b1.display(),
        b2 = b2.display(),
        b3 = b3.display(),
        b5 = b5.display(),
        b6 = b6.display(),
        b7 = b7.display(),
        b8 = b8.display(),
        b9 = b9.display(),
        b10 = b10.display(),
        b12 = b12.display(),
    );
    let t = Tmux::start_sized("pager-choice", &script, 100, 30);
    let s = t.wait("the cases to run", |s| has_line(s, "all-done"));
    let results = fs::read_to_string(&res).unwrap();
    for i in 1..=11 {
        assert!(
            results.lines().any(|l| l == format!("case{i}=0")),
            "case {i}: {results}"
        );
    }
    // 1: SYSTEMD_PAGER wins; LESS is systemd's default; the whole width, coloured.
    assert_eq!(ran(&a1).as_deref(), Some("LESS=FRSXMK\n"));
    assert_eq!(ran(&b1), None);
    let got = fs::read_to_string(a1.with_extension("out")).unwrap();
    assert!(got.contains("\x1b["), "coloured: {got}");
    let widest = got.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 100, "not cut to the terminal: {widest}\n{got}");
    assert!(!got.contains('…'), "{got}");
    // 2: PAGER, with LESS from SYSTEMD_LESS.
    assert_eq!(ran(&b2).as_deref(), Some("LESS=XY\n"));
    // 3, 4: empty or `cat` means none (a `cat` in PATH would have recorded).
    assert_eq!(ran(&b3), None);
    assert_eq!(ran(&c4), None);
    // 5: --no-pager; 6: a pipe; 7: metrics.
    assert_eq!(ran(&b5), None);
    assert_eq!(ran(&b6), None);
    assert!(fs::read_to_string(d.join("piped"))
        .unwrap()
        .starts_with("/ (cgroup2 on /sys/fs/cgroup, nsdelegate)"));
    assert_eq!(ran(&b7), None);
    // 8, 9, 10: pid, userns, ids (through sh -c: the command has an argument).
    for (b, first) in [(&b8, "1 /sbin/init\n"), (&b9, "        NS NPROCS")] {
        assert!(ran(b).is_some(), "{} ran", b.display());
        let out = fs::read_to_string(b.with_extension("out")).unwrap();
        assert!(out.starts_with(first), "{out}");
    }
    assert!(ran(&b10).is_some());
    let ids = fs::read_to_string(b10.with_extension("out")).unwrap();
    assert!(ids.lines().next().unwrap().ends_with(" /"), "{ids}");
    assert!(ids.lines().any(|l| l.ends_with(" /init.scope")), "{ids}");
    // 12: stderr (the same terminal) goes into the pager too, before its end; the
    // status is cgtree's own (2: no such process).
    assert!(results.lines().any(|l| l == "case12=2"), "{results}");
    let out = fs::read_to_string(b12.with_extension("out")).unwrap();
    assert!(out.starts_with("1 /sbin/init\n"), "{out}");
    assert!(
        out.ends_with(
            "\ncgtree: no process 4000000 (ROOT/proc/4000000 does not exist)\n"
                .replace("ROOT", &fx.display().to_string())
                .as_str()
        ),
        "{out}"
    );
    // 11: a pager that cannot start: the text on the terminal.
    assert!(has_line(&s, "1 /sbin/init"), "{s}");
    assert!(has_line(&s, "  what:      host process"), "{s}");
    assert!(!s.lines().any(|l| l.starts_with("cgtree:")), "{s}");
}

/// Not a terminal (a test's pipe): no pager, whatever the environment says.
#[test]
fn output_into_a_pipe_is_never_paged() {
    let dir = tempfile::tempdir().unwrap();
    let a = recorder(dir.path(), "a");
    let b = recorder(dir.path(), "b");
    let out = common::cgtree()
        .env("SYSTEMD_PAGER", &a)
        .env("PAGER", &b)
        .arg("--root")
        .arg(fixture(KIND))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("/ (cgroup2 on /sys/fs/cgroup, nsdelegate)"));
    // cgtree waits for a pager it started: had one run, its file would be there now.
    assert_eq!(ran(&a), None);
    assert_eq!(ran(&b), None);
}
