//! The pager: on a terminal (tmux) the one-shot texts go through `$SYSTEMD_PAGER`,
//! `$PAGER` or `less` with `LESS=FRSXMK`, as systemd's tools (src/shared/pager.c), with
//! its secure mode, fallbacks and `LESSCHARSET`; never into a pipe, on a dumb terminal,
//! with `--no-pager` or for the streams; quitting the pager early is a clean end, and a
//! killed cgtree takes its pager along.
//!
//! Pagers here are shell scripts that record that they ran (and their `LESS`,
//! `LESSSECURE`, `LESSCHARSET`) and save what they were given; the default `less` is
//! driven for real.

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

/// A recording pager named `name` in `dir`: writes one line each for `LESS`,
/// `LESSSECURE` and `LESSCHARSET` (`unset` when not in its environment) to NAME.ran, and
/// its input to NAME.out. `cat` is found with `command -p` (the default `PATH`), so that
/// it runs with any `PATH`.
fn recorder(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    fs::write(
        &p,
        "#!/bin/sh\nprintf 'LESS=%s\\nLESSSECURE=%s\\nLESSCHARSET=%s\\n' \"$LESS\" \
         \"${LESSSECURE-unset}\" \"${LESSCHARSET-unset}\" > \"$0.ran\"\n\
         command -p cat > \"$0.out\"\n",
    )
    .unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// What the recorder `pager` wrote when it ran (`None`: it did not run).
fn ran(pager: &Path) -> Option<String> {
    fs::read_to_string(pager.with_extension("ran")).ok()
}

/// The value of `var` (`LESS`, `LESSSECURE`, `LESSCHARSET`) the recorder `pager` was
/// given, `unset` when it had none; `None` when it did not run.
fn ran_with(pager: &Path, var: &str) -> Option<String> {
    let text = ran(pager)?;
    let prefix = format!("{var}=");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::to_string)
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
         SYSTEMD_PAGERSECURE=1 '{}' --root '{}' -a; echo cgtree-exit=$?; sleep 60",
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
/// `$PAGER` (trusted: `SYSTEMD_PAGERSECURE=0`); empty or `cat` means none; `--no-pager`;
/// `LESS` from `$SYSTEMD_LESS`; a command with arguments split at blanks; one that cannot
/// start, with no fallback in `PATH`, leaves the output on the terminal (status 0); a
/// pipe is never paged; the streams (`metrics`) are not paged;
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
        "cd '{d}'; export TERM=xterm-256color SYSTEMD_PAGERSECURE=0
unset NO_COLOR PAGER SYSTEMD_PAGER SYSTEMD_LESS LESS LESSSECURE LESSCHARSET SYSTEMD_LESSCHARSET SUDO_UID
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
clear; PATH=/nonexistent PAGER=/nonexistent/pager {cg} pid 1; echo case11=$? >> '{res_path}'; echo all-done; sleep 60",
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
    assert_eq!(ran_with(&a1, "LESS").as_deref(), Some("FRSXMK"));
    assert_eq!(ran(&b1), None);
    let got = fs::read_to_string(a1.with_extension("out")).unwrap();
    assert!(got.contains("\x1b["), "coloured: {got}");
    let widest = got.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 100, "not cut to the terminal: {widest}\n{got}");
    assert!(!got.contains('…'), "{got}");
    // 2: PAGER, with LESS from SYSTEMD_LESS.
    assert_eq!(ran_with(&b2, "LESS").as_deref(), Some("XY"));
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
    // 8, 9, 10: pid, userns, ids (the command has an argument).
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
    // 11: a pager that cannot start, and no other in PATH: the text on the terminal.
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

/// The last line of a screen (less's prompt line).
fn last_line(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

/// The environment of a pager test's command: no pager, `LESS*` or `SUDO_UID` of the
/// test's own, a terminal that has a name.
const CLEAN_ENV: &str = "env -u PAGER -u SYSTEMD_PAGER -u SYSTEMD_LESS -u LESS -u LESSSECURE \
     -u LESSCHARSET -u SYSTEMD_LESSCHARSET -u SYSTEMD_PAGERSECURE -u SUDO_UID -u NO_COLOR \
     TERM=xterm-256color";

/// Secure mode (systemd's `$SYSTEMD_PAGERSECURE`, src/shared/pager.c): with
/// `SYSTEMD_PAGERSECURE=1`, and when it is unset under sudo (`SUDO_UID`), less is run with
/// `LESSSECURE=1`: its `!` (a shell command, as root under `sudo cgtree`) is refused.
/// With `SYSTEMD_PAGERSECURE=0`, `!touch FILE` runs (so the keys typed do reach less).
#[test]
fn secure_mode_keeps_less_from_running_commands() {
    let root = many_cgroups();
    let dir = tempfile::tempdir().unwrap();
    for (name, env, secure) in [
        ("pager-secure-1", "SYSTEMD_PAGERSECURE=1", true),
        ("pager-secure-sudo", "SUDO_UID=4000000", true),
        ("pager-secure-0", "SYSTEMD_PAGERSECURE=0", false),
    ] {
        let file = dir.path().join(name);
        let cmd = format!(
            "{CLEAN_ENV} {env} '{}' --root '{}' -a; echo cgtree-exit=$?; sleep 60",
            bin(),
            root.path().display()
        );
        let t = Tmux::start_sized(name, &cmd, 100, 20);
        t.wait("less's first screen", |s| {
            last_line(s).contains("lines 1-19")
        });
        t.send(&["!"]);
        let s = t.wait("less's answer to !", |s| {
            let l = last_line(s);
            l.contains("Command not available") || l.trim_end() == "!"
        });
        if secure {
            assert!(
                last_line(&s).contains("Command not available"),
                "{name}:\n{s}"
            );
            t.send(&["Enter"]);
        } else {
            t.send(&["-l", &format!("touch {}", file.display())]);
            t.send(&["Enter"]);
            t.wait("the shell command to run", |s| s.contains("!done"));
            t.send(&["Enter"]);
        }
        t.send(&["q"]);
        let s = t.wait("cgtree to exit", |s| has_line(s, "cgtree-exit="));
        assert!(has_line(&s, "cgtree-exit=0"), "{name}:\n{s}");
        assert_eq!(file.exists(), !secure, "{name}: {}", file.display());
    }
}

/// No pager when `TERM` is unset, empty or `dumb` (systemd's `terminal_is_dumb()`), even
/// on a terminal: the text is written there; with a named terminal, the same pager runs.
#[test]
fn no_pager_on_a_dumb_or_unnamed_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (n1, n2, n3, n4) = (
        recorder(d, "n1"),
        recorder(d, "n2"),
        recorder(d, "n3"),
        recorder(d, "n4"),
    );
    let cg = format!("'{}' --root '{}' pid 1", bin(), fixture(KIND).display());
    let res = d.join("results");
    let script = format!(
        "{CLEAN_ENV} SYSTEMD_PAGERSECURE=0 sh -c \"
clear
env -u TERM PAGER='{n1}' {cg}; echo case1=\\$? >> '{res}'
TERM=dumb PAGER='{n2}' {cg}; echo case2=\\$? >> '{res}'
TERM= PAGER='{n3}' {cg}; echo case3=\\$? >> '{res}'
PAGER='{n4}' {cg}; echo case4=\\$? >> '{res}'
echo all-done\"; sleep 60",
        n1 = n1.display(),
        n2 = n2.display(),
        n3 = n3.display(),
        n4 = n4.display(),
        res = res.display(),
    );
    let t = Tmux::start_sized("pager-dumb", &script, 100, 50);
    let s = t.wait("the cases to run", |s| has_line(s, "all-done"));
    let results = fs::read_to_string(&res).unwrap();
    assert_eq!(results, "case1=0\ncase2=0\ncase3=0\ncase4=0\n");
    assert_eq!(ran(&n1), None, "TERM unset");
    assert_eq!(ran(&n2), None, "TERM=dumb");
    assert_eq!(ran(&n3), None, "TERM empty");
    assert!(ran(&n4).is_some(), "TERM=xterm-256color");
    // The three unpaged outputs are on the terminal.
    let shown = s.lines().filter(|l| l.starts_with("1 /sbin/init")).count();
    assert_eq!(shown, 3, "{s}");
}

/// The tree's glyphs are UTF-8 whatever the locale, so less is given
/// `LESSCHARSET=utf-8` (systemd sets it for a UTF-8 locale only, where its own glyphs are
/// UTF-8): under `LC_ALL=C` less shows `├─`, not `<E2><94><9C>`.
#[test]
fn less_shows_the_tree_glyphs_in_any_locale() {
    let root = many_cgroups();
    let cmd = format!(
        "env -u LANG -u LC_CTYPE -u LANGUAGE LC_ALL=C {CLEAN_ENV} SYSTEMD_PAGERSECURE=1 \
         '{}' --root '{}' -a; echo cgtree-exit=$?; sleep 60",
        bin(),
        root.path().display()
    );
    let t = Tmux::start_sized("pager-charset", &cmd, 100, 20);
    let s = t.wait("less's first screen", |s| {
        last_line(s).contains("lines 1-19")
    });
    let lines: Vec<&str> = s.lines().collect();
    assert!(
        lines[1].starts_with("├─many-cgroups-for-a-long-paged-output-0000.scope"),
        "{s}"
    );
    assert!(!s.contains("<E2>"), "{s}");
    t.send(&["q"]);
    let s = t.wait("cgtree to exit", |s| has_line(s, "cgtree-exit="));
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
}

/// Which pager runs, as systemd's pager.c chooses it: `$SYSTEMD_PAGER`/`$PAGER` only when
/// `$SYSTEMD_PAGERSECURE` is set (to a boolean); a pager that cannot run (its first word
/// not found, not executable) is replaced by `pager`, `less`, `more` from `PATH` (in
/// secure mode by `less` only); with none of them, cgtree writes to the terminal itself.
/// `LESSCHARSET` is `utf-8` (any locale) or `$SYSTEMD_LESSCHARSET`; `LESSSECURE=1` in
/// secure mode, unset otherwise.
#[test]
fn pager_fallbacks_and_secure_mode_choice() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fx = fixture(KIND);
    // PATH directories, each with its own recorders (named as the fallbacks).
    let bin_dir = |name: &str, pagers: &[&str]| {
        let p = d.join(name);
        fs::create_dir(&p).unwrap();
        for pg in pagers {
            recorder(&p, pg);
        }
        p
    };
    let d1 = bin_dir("d1", &["less"]);
    let d3 = bin_dir("d3", &["pager", "less", "more"]);
    let d4 = bin_dir("d4", &["pager", "less", "more"]);
    let d5 = bin_dir("d5", &["pager", "less", "more"]);
    let d7 = bin_dir("d7", &["less"]);
    let d8 = bin_dir("d8", &["pager", "less"]);
    // Not executable: skipped.
    fs::set_permissions(d8.join("pager"), fs::Permissions::from_mode(0o644)).unwrap();
    let (x3, x6, x7) = (recorder(d, "x3"), recorder(d, "x6"), recorder(d, "x7"));
    let cg = format!("'{}' --root '{}'", bin(), fx.display());
    let res = d.join("results");
    let script = format!(
        "{CLEAN_ENV} sh -c \"
PATH='{d1}' SYSTEMD_PAGERSECURE=0 PAGER='missing-program -x' LC_ALL=C {cg}; echo case1=\\$? >> '{res}'
clear
PATH=/nonexistent SYSTEMD_PAGERSECURE=0 PAGER='missing-program -x' {cg} pid 1; echo case2=\\$? >> '{res}'
PATH='{d3}' SUDO_UID=4000000 PAGER='{x3}' {cg}; echo case3=\\$? >> '{res}'
PATH='{d4}' SYSTEMD_PAGERSECURE=0 {cg}; echo case4=\\$? >> '{res}'
PATH='{d5}' SUDO_UID=4000000 {cg}; echo case5=\\$? >> '{res}'
SYSTEMD_PAGERSECURE=1 SYSTEMD_LESSCHARSET=latin1 PAGER='{x6} -x' {cg}; echo case6=\\$? >> '{res}'
PATH='{d7}' SYSTEMD_PAGERSECURE=bogus PAGER='{x7}' {cg}; echo case7=\\$? >> '{res}'
PATH='{d8}' SYSTEMD_PAGERSECURE=no {cg}; echo case8=\\$? >> '{res}'
echo all-done\"; sleep 60",
        d1 = d1.display(),
        d3 = d3.display(),
        d4 = d4.display(),
        d5 = d5.display(),
        d7 = d7.display(),
        d8 = d8.display(),
        x3 = x3.display(),
        x6 = x6.display(),
        x7 = x7.display(),
        res = res.display(),
    );
    let t = Tmux::start_sized("pager-fallback", &script, 100, 40);
    let s = t.wait("the cases to run", |s| has_line(s, "all-done"));
    let results = fs::read_to_string(&res).unwrap();
    let want: String = (1..=8).map(|i| format!("case{i}=0\n")).collect();
    assert_eq!(results, want, "{s}");
    let var = |p: PathBuf, v: &str| ran_with(&p, v);
    // 1: `missing-program` is not in PATH: the next that is (less), with UTF-8 under C.
    assert_eq!(var(d1.join("less"), "LESS").as_deref(), Some("FRSXMK"));
    assert_eq!(var(d1.join("less"), "LESSSECURE").as_deref(), Some("unset"));
    assert_eq!(
        var(d1.join("less"), "LESSCHARSET").as_deref(),
        Some("utf-8")
    );
    let out = fs::read_to_string(d1.join("less.out")).unwrap();
    assert!(
        out.contains(" (cgroup2 on /sys/fs/cgroup, nsdelegate)"),
        "{out}"
    );
    // 2: no pager at all: the text on the terminal.
    assert!(has_line(&s, "1 /sbin/init"), "{s}");
    assert!(!s.lines().any(|l| l.starts_with("cgtree:")), "{s}");
    // 3: secure (sudo) and SYSTEMD_PAGERSECURE unset: neither $PAGER nor `pager`, `more`.
    assert_eq!(ran(&x3), None);
    assert_eq!(ran(&d3.join("pager")), None);
    assert_eq!(ran(&d3.join("more")), None);
    assert_eq!(var(d3.join("less"), "LESSSECURE").as_deref(), Some("1"));
    // 4: not secure, no $PAGER: Debian's `pager` first.
    assert_eq!(
        var(d4.join("pager"), "LESSSECURE").as_deref(),
        Some("unset")
    );
    assert_eq!(ran(&d4.join("less")), None);
    // 5: secure, no $PAGER: less.
    assert_eq!(ran(&d5.join("pager")), None);
    assert_eq!(var(d5.join("less"), "LESSSECURE").as_deref(), Some("1"));
    // 6: SYSTEMD_PAGERSECURE set: $PAGER trusted (with its argument), in secure mode;
    // SYSTEMD_LESSCHARSET passed as it is.
    assert_eq!(var(x6.clone(), "LESSSECURE").as_deref(), Some("1"));
    assert_eq!(var(x6, "LESSCHARSET").as_deref(), Some("latin1"));
    // 7: not a boolean: secure, and $PAGER not trusted.
    assert_eq!(ran(&x7), None);
    assert_eq!(var(d7.join("less"), "LESSSECURE").as_deref(), Some("1"));
    // 8: a `pager` that is not executable is passed over.
    assert_eq!(ran(&d8.join("pager")), None);
    assert_eq!(var(d8.join("less"), "LESSSECURE").as_deref(), Some("unset"));
}

/// cgtree killed while its pager shows the output: the pager does not stay behind on the
/// terminal (it gets `SIGTERM` as its parent dies: `PR_SET_PDEATHSIG`, as systemd's).
#[test]
fn a_killed_cgtree_takes_its_pager_along() {
    let root = many_cgroups();
    let cmd = format!(
        "{CLEAN_ENV} SYSTEMD_PAGERSECURE=1 '{}' --root '{}' -a; echo cgtree-exit=$?; sleep 60",
        bin(),
        root.path().display()
    );
    let t = Tmux::start_sized("pager-orphan", &cmd, 100, 20);
    t.wait("less's first screen", |s| {
        last_line(s).contains("lines 1-19")
    });
    let shell: u32 = t.format("#{pane_pid}").parse().unwrap();
    let cgtree = children(shell)
        .into_iter()
        .find(|&p| comm(p) == "cgtree")
        .unwrap_or_else(|| panic!("cgtree under the shell {shell}"));
    let pager = children(cgtree);
    assert_eq!(pager.len(), 1, "{pager:?}");
    let pager = pager[0];
    assert_eq!(comm(pager), "less");
    // The cgtree this test started, by its PID.
    let st = std::process::Command::new("kill")
        .args(["-KILL", &cgtree.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let s = t.wait("the shell to go on", |s| has_line(s, "cgtree-exit="));
    assert!(has_line(&s, "cgtree-exit=137"), "{s}");
    // Gone, or a zombie nobody reaped yet.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let stat = fs::read_to_string(format!("/proc/{pager}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if matches!(state, None | Some('Z' | 'X')) {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "the pager {pager} is still there: {stat}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
