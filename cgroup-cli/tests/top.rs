//! `cgtree top`: text blocks and JSON lines from the binary on a fixture, and the
//! full-screen view driven for real in tmux (keys sent, screen captured).
//!
//! These tests check the rows (names, identities, order, depth), the numbers of a fixture
//! with usage files (fixtures/stats-kind), the plumbing (iterations, JSON per line,
//! automatic text blocks on a pipe) and the terminal handling.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{cgtree, run_fixture};
use std::process::Command;
use std::time::{Duration, Instant};

const KIND: &str = "arch-docker-kind";

/// The first word of each row of a text block (after the two header lines).
fn first_words(block: &str) -> Vec<String> {
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn batch_prints_the_named_rows_and_exits_0() {
    // COLUMNS=100 (common::cgtree): names cut, pressure columns left out.
    let (out, err, code) = run_fixture(KIND, &["top", "-b", "-n", "1", "-d", "0.01"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{out}");
    assert!(!lines[1].contains("PSIio"));
    assert!(out.contains("    docker-8ae"), "{out}");
    assert!(out.contains(".scope [docker container …"), "{out}");
    // Wide enough for everything.
    let out = cgtree()
        .env("COLUMNS", "200")
        .args([
            "--root",
            "fixtures/arch-docker-kind",
            "top",
            "-b",
            "-n",
            "1",
            "-d",
            "0.01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("cgtree top /  "), "{out}");
    assert!(lines[0].ends_with("s  order: cpu"), "{out}");
    assert!(lines[0].contains(" UTC  interval 0.0"), "{out}");
    assert!(lines[1].starts_with("CGROUP"), "{out}");
    assert!(lines[1].ends_with("PSIio"), "{out}");
    for want in [
        "  system.slice",
        "    containerd.service [containerd]",
        "[docker container kind-control-plane",
        "      init.scope [init of kind node kind-control-plane]",
        "[kubernetes pods]",
        "[container kube-apiserver]",
        "    user-1000.slice [user 1000]",
    ] {
        assert!(out.contains(want), "{want} in\n{out}");
    }
    // arch-docker-kind has no usage files: every cell is `-`.
    let row = lines
        .iter()
        .find(|l| l.contains("user-1000.slice"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 12..], ["-"; 12], "{row}");
    // One block, ending with an empty line.
    assert_eq!(out.matches("cgtree top /").count(), 1);
    assert!(out.ends_with("\n\n"));
}

#[test]
fn batch_is_the_default_on_a_pipe_and_counts_iterations() {
    let (auto, _, code) = run_fixture(KIND, &["top", "-n", "2", "-d", "0.05"]);
    assert_eq!(code, 0);
    let (batch, _, _) = run_fixture(KIND, &["top", "-b", "-n", "2", "--delay", "0.05"]);
    assert_eq!(auto.matches("cgtree top /").count(), 2, "{auto}");
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("cgtree top"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&auto), strip(&batch));
    // Every block has an interval: a first sample, one interval before, primes the rates.
    let headers: Vec<&str> = auto
        .lines()
        .filter(|l| l.starts_with("cgtree top"))
        .collect();
    assert_eq!(headers.len(), 2);
    for h in headers {
        assert!(h.contains("  interval 0."), "{h}");
    }
}

#[test]
fn without_n_it_runs_until_the_reader_goes_away() {
    use std::io::{BufRead, BufReader};
    let mut child = cgtree()
        .args(["--root", "fixtures/arch-docker-kind", "top", "-d", "0.05"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Several blocks arrive; then the reader closes the pipe.
    let mut headers = 0;
    for l in lines.by_ref() {
        if l.unwrap().starts_with("cgtree top /") {
            headers += 1;
            if headers == 3 {
                break;
            }
        }
    }
    drop(lines);
    // A guard against a hang (not a speed check): killed, by its own PID, after 20 s.
    let end = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("cgtree top kept running after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(err, "", "a closed pipe ends quietly");
}

#[test]
fn order_depth_and_start_cgroup() {
    let (out, _, code) = run_fixture(
        KIND,
        &["top", "-b", "-n", "1", "-d", "0.01", "--order", "path"],
    );
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().ends_with("order: path"));
    let (out, _, code) = run_fixture(
        KIND,
        &["top", "-b", "-n", "1", "-d", "0.01", "--depth", "1"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        first_words(&out),
        ["/", "init.scope", "system.slice", "user.slice"]
    );
    let (out, _, code) = run_fixture(KIND, &["top", "/user.slice", "-b", "-n", "1", "-d", "0.01"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("cgtree top /user.slice  "), "{out}");
    assert_eq!(
        first_words(&out),
        ["/user.slice", "user-1000.slice", "session-2.scope"]
    );
}

#[test]
fn json_is_one_sample_document_per_line() {
    let (out, err, code) = run_fixture(KIND, &["top", "--json", "-n", "2", "-d", "0.05"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        common::validate_def(&v, "sample_doc").unwrap_or_else(|e| panic!("{e}"));
        // A first sample primes the rates: every line has its interval.
        assert!(v["interval_usec"].as_u64().unwrap() >= 50_000, "{l}");
        let cgroups = v["cgroups"].as_array().unwrap();
        assert_eq!(cgroups[0]["path"], "/");
        let kind = cgroups
            .iter()
            .find(|c| c["identity"]["kind"] == "docker-container")
            .unwrap();
        assert!(kind["path"]
            .as_str()
            .unwrap()
            .starts_with("/system.slice/docker-"));
        // arch-docker-kind has no usage files: nothing to show, and no error.
        assert!(kind["usage"]["memory"].is_null());
        assert!(kind["errors"].as_array().unwrap().is_empty());
    }
}

/// The numbers of fixtures/stats-kind (usage files in the kernel's formats) come out in
/// the text block's columns and in the JSON line, for a pod's container, the pod and the
/// kind node: working set (memory.current − inactive_file), memory.current, memory.max,
/// OOM kills (memory.events), tasks (pids.current).
#[test]
fn fixture_numbers_reach_the_columns() {
    let out = cgtree()
        .env("COLUMNS", "300")
        .args(["--root", "fixtures/stats-kind"])
        .args(["top", "-b", "-n", "1", "-d", "0.01", "--order", "path"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = String::from_utf8(out.stdout).unwrap();
    let row = |needle: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle} in\n{out}"));
        // The columns after the name: CPU% THR% WSET MEM LIMIT OOM TASKS ...
        let cut = line.find(']').map_or(0, |i| i + 1);
        line[cut..].split_whitespace().map(str::to_string).collect()
    };
    let c = row("[container kube-apiserver]");
    assert_eq!(&c[2..7], ["208.0M", "248.0M", "256.0M", "2", "9"], "{c:?}");
    let pod = row("[pod kube-system/kube-apiserver-kind-control-plane]");
    assert_eq!(
        &pod[2..7],
        ["208.3M", "248.3M", "max", "2", "10"],
        "{pod:?}"
    );
    let node = row("kind node]");
    assert_eq!(
        &node[2..7],
        ["388.3M", "503.3M", "max", "2", "70"],
        "{node:?}"
    );

    let (out, err, code) = run_fixture("stats-kind", &["top", "--json", "-n", "1", "-d", "0.01"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    common::validate_def(&v, "sample_doc").unwrap_or_else(|e| panic!("{e}"));
    let app = v["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"]["name"] == "kube-apiserver")
        .unwrap();
    assert_eq!(app["usage"]["memory"]["working_set"], 208u64 << 20);
    assert_eq!(app["usage"]["memory_events"]["oom_kill"], 2);
    // A fixture does not change between the two samples: rates of 0.
    assert_eq!(app["rates"]["cpu"]["cores"], 0.0);
    let groups = v["groups"].as_array().unwrap();
    for kind in ["container", "pod", "kube-node"] {
        assert!(
            groups.iter().any(|g| g["kind"] == kind),
            "no {kind} group in {groups:?}"
        );
    }
}

#[test]
fn bad_arguments_and_a_missing_start_cgroup() {
    for args in [
        &["top", "-d", "0"][..],
        &["top", "-d", "x"],
        &["top", "--order", "bogus"],
    ] {
        let (_, err, code) = run_fixture(KIND, args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("error:"), "{err}");
    }
    let (out, err, code) = run_fixture(
        KIND,
        &["top", "/no.such.slice", "-b", "-n", "1", "-d", "0.01"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("no.such.slice"), "{err}");
}

// ---- The full-screen view in tmux ----

use common::tmux::Tmux;

fn shell_command(extra: &str) -> String {
    shell_command_env("NO_COLOR=1", extra)
}

fn shell_command_env(env: &str, extra: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_cgtree");
    let root = common::repo_root().join("fixtures").join(KIND);
    // After cgtree: its status, and the terminal modes it left (raw mode off: icanon,
    // echo), then a pause so that the pane can be read.
    format!(
        "env -u NO_COLOR TERM=xterm-256color {env} '{bin}' --root '{}' top {extra}; \
         echo cgtree-exit=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/tty-/'; sleep 60",
        root.display()
    )
}

fn has_line(screen: &str, needle: &str) -> bool {
    screen.lines().any(|l| l.contains(needle))
}

/// Whether the shell has printed cgtree's status and the terminal modes after it.
fn exited(screen: &str) -> bool {
    has_line(screen, "cgtree-exit=")
        && (has_line(screen, "tty-echo") || has_line(screen, "tty--echo"))
}

#[test]
fn full_screen_view_in_tmux() {
    let t = Tmux::start("top-tmux", &shell_command(""));
    let s = t.wait("the first screen", |s| has_line(s, "order: cpu"));
    assert!(has_line(&s, "[docker container kind-control-"), "{s}");
    assert!(has_line(&s, "CGROUP"), "{s}");
    assert!(has_line(&s, "q quit  ? help"), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "1");

    // Orders.
    for (key, label) in [
        ("m", "order: memory"),
        ("i", "order: io"),
        ("t", "order: tasks"),
        ("c", "order: cpu"),
        ("p", "order: path"),
    ] {
        t.send(&[key]);
        t.wait(label, |s| has_line(s, label));
    }
    let s = t.screen();
    assert!(has_line(&s, "CGROUP▲"), "{s}");

    // Collapse system.slice (path order: /, init.scope, system.slice).
    t.send(&["j", "j", "Enter"]);
    let s = t.wait("system.slice collapsed", |s| has_line(s, "▸ system.slice"));
    assert!(!has_line(&s, "kubelet.slice"), "{s}");
    assert!(has_line(&s, "user-1000.slice"), "{s}");
    t.send(&["Right"]);
    t.wait("system.slice expanded", |s| {
        has_line(s, "▾ system.slice") && has_line(s, "kubelet.slice")
    });
    t.send(&["-"]);
    t.wait("collapsed with -", |s| !has_line(s, "kubelet.slice"));
    t.send(&["+"]);
    t.wait("expanded with +", |s| has_line(s, "kubelet.slice"));

    // Filter.
    t.send(&["/"]);
    t.send(&["-l", "kube-apiserver"]);
    t.wait("the filter prompt", |s| has_line(s, "/kube-apiserver_"));
    t.send(&["Enter"]);
    let s = t.wait("the filtered rows", |s| {
        has_line(s, "filter: kube-apiserver") && !has_line(s, "user.slice")
    });
    assert!(has_line(&s, "[container kube-apiserver]"), "{s}");
    assert!(has_line(&s, "[pod kube-system/kube-apise"), "{s}");
    assert!(has_line(&s, "kubelet-kubepods.slice"), "{s}");
    assert!(!has_line(&s, "[pod sandbox]"), "{s}");
    t.send(&["/", "BSpace", "BSpace"]);
    for _ in 0.."kube-apiserver".len() {
        t.send(&["BSpace"]);
    }
    t.send(&["Enter"]);
    t.wait("the filter cleared", |s| {
        has_line(s, "user.slice") && !has_line(s, "filter:")
    });

    // Help, pause.
    t.send(&["?"]);
    t.wait("the help", |s| has_line(s, "filter by name or identity"));
    t.send(&["?"]);
    t.wait("the help closed", |s| {
        !has_line(s, "filter by name or identity")
    });
    t.send(&["Space"]);
    t.wait("paused", |s| has_line(s, "PAUSED"));
    t.send(&["P"]);
    t.wait("resumed", |s| !has_line(s, "PAUSED"));

    // Quit: the main screen is back, raw mode is off, the status is 0.
    t.send(&["q"]);
    let s = t.wait("cgtree to exit", exited);
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
    assert!(
        has_line(&s, "tty-icanon") && has_line(&s, "tty-echo"),
        "{s}"
    );
    assert!(
        !has_line(&s, "tty--icanon") && !has_line(&s, "tty--echo"),
        "{s}"
    );
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
    assert!(!has_line(&s, "CGROUP"), "the view is gone: {s}");
}

/// The header line (with the sample's time, to the second).
fn header(screen: &str) -> String {
    screen.lines().next().unwrap_or("").to_string()
}

#[test]
fn pause_stops_sampling_and_esc_quits() {
    // A sample every 0.2 s: the header's time changes every second while running.
    let t = Tmux::start("top-tmux-pause", &shell_command("-d 0.2"));
    let first = t.wait("the first screen", |s| has_line(s, "order: cpu"));
    t.wait("a newer sample", |s| header(s) != header(&first));
    t.send(&["Space"]);
    let paused = t.wait("paused", |s| has_line(s, "PAUSED"));
    // Paused for 1.5 s (more than a second, the header's resolution, and more than 7
    // sample intervals): no new sample, the same header.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(header(&t.screen()), header(&paused));
    t.send(&["Space"]);
    t.wait("sampling again", |s| {
        !has_line(s, "PAUSED") && header(s).split("  ").nth(1) != header(&paused).split("  ").nth(1)
    });
    // Esc clears a filter first, then quits.
    t.send(&["/", "x", "Enter"]);
    t.wait("the filter", |s| has_line(s, "filter: x"));
    t.send(&["Escape"]);
    t.wait("the filter cleared", |s| {
        has_line(s, "order: cpu") && !has_line(s, "filter: x")
    });
    t.send(&["Escape"]);
    let s = t.wait("cgtree to exit", exited);
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
}

#[test]
fn colours_follow_no_color_term_and_color() {
    const BOLD: &str = "\x1b[1m";
    // tmux writes cyan as a 256-colour index.
    const CYANS: [&str; 2] = ["\x1b[36m", "\x1b[38;5;6m"];
    const REVERSE: &str = "7m";
    let cases = [
        ("", "", true),
        ("", "--color never", false),
        ("NO_COLOR=1", "", false),
        ("TERM=dumb", "", false),
        ("NO_COLOR=1", "--color always", true),
    ];
    for (env, flags, colour) in cases {
        let t = Tmux::start("top-tmux-colour", &shell_command_env(env, flags));
        // The help line is drawn last.
        t.wait("the first screen", |s| has_line(s, "q quit  ? help"));
        let s = t.screen_sgr();
        let what = format!("{env} {flags}");
        let start: String = s.chars().take(600).collect();
        assert_eq!(s.contains(BOLD), colour, "{what}: {start:?}");
        assert_eq!(
            CYANS.iter().any(|c| s.contains(c)),
            colour,
            "{what}: {start:?}"
        );
        // The selected line is marked in every case (reverse video: SGR 7).
        assert!(
            s.contains("\x1b[7m") || s.contains(&format!(";{REVERSE}")),
            "{what}: {start:?}"
        );
        t.send(&["q"]);
        t.wait("cgtree to exit", exited);
    }
}

#[test]
fn a_panic_restores_the_terminal_before_its_message() {
    // Debug builds of cgtree panic on a key with this variable set (top/run.rs).
    let t = Tmux::start(
        "top-tmux-panic",
        &shell_command_env("NO_COLOR=1 CGTREE_TEST_TOP_PANIC=1 RUST_BACKTRACE=0", ""),
    );
    t.wait("the first screen", |s| has_line(s, "order: cpu"));
    assert_eq!(t.format("#{alternate_on}"), "1");
    t.send(&["x"]);
    let s = t.wait("cgtree to exit", exited);
    // Rust's status for a panic, the message on the main screen, raw mode off.
    assert!(has_line(&s, "cgtree-exit=101"), "{s}");
    assert!(has_line(&s, "cgtree top: test panic"), "{s}");
    assert!(
        has_line(&s, "tty-icanon") && has_line(&s, "tty-echo"),
        "{s}"
    );
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
}

#[test]
fn ctrl_c_and_iterations_end_the_view_and_restore_the_terminal() {
    let t = Tmux::start("top-tmux-ctrlc", &shell_command(""));
    t.wait("the first screen", |s| has_line(s, "order: cpu"));
    t.send(&["C-c"]);
    let s = t.wait("cgtree to exit", exited);
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
    assert!(has_line(&s, "tty-icanon"), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
    drop(t);

    let t = Tmux::start("top-tmux-n", &shell_command("-n 2 -d 0.1 --order path"));
    let s = t.wait("cgtree to exit after 2 samples", exited);
    assert!(has_line(&s, "cgtree-exit=0"), "{s}");
    assert!(has_line(&s, "tty-icanon"), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
}

/// SIGTERM and SIGHUP sent to the full-screen view end it with the terminal restored
/// (raw mode off, main screen, cursor shown), as `q` does.
#[test]
fn sigterm_and_sighup_end_the_view_and_restore_the_terminal() {
    for sig in ["TERM", "HUP"] {
        let t = Tmux::start("top-tmux-sig", &shell_command(""));
        t.wait("the first screen", |s| has_line(s, "order: cpu"));
        // The pane's shell runs cgtree as its only child (`env` execs it).
        let shell: u32 = t.format("#{pane_pid}").parse().unwrap();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pid: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
        assert_eq!(comm.trim(), "cgtree");
        let st = Command::new("kill")
            .args([format!("-{sig}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let s = t.wait("cgtree to exit", exited);
        assert!(has_line(&s, "cgtree-exit=0"), "SIG{sig}: {s}");
        assert!(has_line(&s, "tty-icanon"), "SIG{sig}: {s}");
        assert_eq!(t.format("#{alternate_on}"), "0", "SIG{sig}");
        assert_eq!(t.format("#{cursor_flag}"), "1", "SIG{sig}");
    }
}

/// The terminal going away (the tmux session killed: SIGHUP, then a hung-up tty) ends
/// the view: it does not linger, spinning on the dead terminal.
#[test]
fn a_terminal_that_goes_away_ends_the_view() {
    let t = Tmux::start("top-tmux-gone", &shell_command(""));
    t.wait("the first screen", |s| has_line(s, "order: cpu"));
    let shell: u32 = t.format("#{pane_pid}").parse().unwrap();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
    let pid: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
    let st = t
        .cmd()
        .args(["kill-session", "-t", &t.session])
        .status()
        .unwrap();
    assert!(st.success());
    let end = Instant::now() + Duration::from_secs(10);
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    };
    while alive(pid) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still = alive(pid);
    if still {
        // Ours (started by this test's tmux): do not leave it running.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        !still,
        "cgtree top (pid {pid}) outlived its terminal by 10 s"
    );
}

#[test]
fn no_terminal_output_escapes_in_batch_text() {
    // The text blocks go through the escaping writer: with colours forced on, only
    // cgtree's own SGR sequences appear.
    let out = cgtree()
        .args(["--root", "fixtures/arch-docker-kind", "--color", "always"])
        .args(["top", "-b", "-n", "1", "-d", "0.01"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\x1b[36m [kubernetes pods]\x1b[0m"), "{text}");
    let stripped = ["\x1b[1m", "\x1b[36m", "\x1b[0m"]
        .iter()
        .fold(text.clone(), |s, sgr| s.replace(sgr, ""));
    assert!(!stripped.contains('\x1b'), "{stripped}");
}

#[test]
fn tree_stats_flags() {
    let (out, err, code) = run_fixture(KIND, &["--stats", "--depth", "1"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].trim_start().starts_with("CPU%"), "{out}");
    assert!(lines[0].ends_with(" CGROUP"), "{out}");
    assert!(lines[1].trim_start().starts_with('-'), "{out}");
    assert!(lines[1].contains(" / (cgroup2 on /sys/fs/cgroup"), "{out}");
    let (with_delay, _, code) = run_fixture(KIND, &["--stats", "--delay", "0.05", "--depth", "1"]);
    assert_eq!(code, 0);
    assert_eq!(with_delay, out);
    // --delay alone implies --stats.
    let (delay_only, _, _) = run_fixture(KIND, &["--delay", "0.05", "--depth", "1"]);
    assert_eq!(delay_only, out);
    // Without: the plain tree.
    let (plain, _, _) = run_fixture(KIND, &["--depth", "1"]);
    assert!(plain.starts_with("/ (cgroup2"), "{plain}");
    let (_, err, code) = run_fixture(KIND, &["--stats", "--delay", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--delay"), "{err}");
}

#[test]
fn tree_json_with_stats_has_a_usage_entry_per_cgroup() {
    fn paths(node: &serde_json::Value, out: &mut Vec<String>) {
        out.push(node["path"].as_str().unwrap().to_string());
        for c in node["children"].as_array().unwrap() {
            paths(c, out);
        }
    }
    let (out, err, code) = run_fixture(KIND, &["--json", "--stats", "-a"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&doc).unwrap();
    let mut tree_paths = Vec::new();
    paths(&doc["cgroup"], &mut tree_paths);
    // The usage member is the sample document of `top --json`, over the same cgroups.
    common::validate_def(&doc["usage"], "sample_doc").unwrap();
    let usage = doc["usage"]["cgroups"].as_array().unwrap();
    let usage_paths: Vec<&str> = usage.iter().map(|u| u["path"].as_str().unwrap()).collect();
    assert_eq!(usage_paths, tree_paths);
    let kind = usage
        .iter()
        .find(|u| u["identity"]["kind"] == "docker-container")
        .unwrap();
    assert!(kind["usage"]["cpu"].is_null());
    assert!(kind["rates"].is_null(), "one sample: no rates");
    // Without --stats: the document as before.
    let (plain, _, _) = run_fixture(KIND, &["--json", "-a"]);
    let plain: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert!(plain.get("usage").is_none());
    let mut doc = doc;
    doc.as_object_mut().unwrap().remove("usage");
    assert_eq!(doc, plain);
}

/// TASKS without the pids controller (this host's cgroup2 has only hugetlb): the
/// processes of a cgroup and its shown descendants, the start cgroup's own included
/// (it is not the hierarchy's root); unknown (`-`) where the depth limit cuts the
/// subtree, rather than a count that leaves processes out. Live, as root.
#[test]
fn tasks_count_the_start_cgroup_and_are_unknown_below_the_depth_limit() {
    let Some(mount) = common::live_mount("top tasks test") else {
        return;
    };
    let name = common::unique_cgroup_name("top-tasks");
    let mut t = common::LiveTree::default();
    let top = mount.join(&name);
    let child = top.join("child");
    t.mkdir(&top);
    t.mkdir(&child);
    for dir in [&top, &top, &child] {
        // Two processes in the start cgroup (allowed: it has no controllers enabled
        // below it), one in its child.
        let pid = t.spawn_sleep();
        std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
    }
    let run = |extra: &[&str]| -> Vec<Vec<String>> {
        let out = cgtree()
            .env("COLUMNS", "300")
            .args(["top", "-b", "-n", "1", "-d", "0.01"])
            .args(extra)
            .arg(format!("/{name}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let header: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        let col = header.iter().position(|h| *h == "TASKS").unwrap();
        text.lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .map(|l| {
                let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
                // The name is one word here; cells after it line up with the header.
                vec![cells[0].clone(), cells[col].clone()]
            })
            .collect()
    };
    let rows = run(&[]);
    assert_eq!(rows[0], [format!("/{name}"), "3".to_string()], "{rows:?}");
    assert_eq!(rows[1], ["child", "1"], "{rows:?}");
    let rows = run(&["--depth", "0"]);
    assert_eq!(rows, [[format!("/{name}"), "-".to_string()]], "{rows:?}");
}

/// `cgtree --stats`: a usage file that does not parse is named on stderr (file and line,
/// escaped) and the status is 1, as for the tree's own files; the row keeps the rest.
#[test]
fn stats_reports_unreadable_usage_files() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    common::copy_tree(&common::repo_root().join("fixtures/stats-kind"), &root);
    let cpu = root.join("sys/fs/cgroup/init.scope/cpu.stat");
    std::fs::write(&cpu, "usage_usec \x1b[31mNOPE\n").unwrap();
    let out = cgtree()
        .arg("--root")
        .arg(&root)
        .args(["--stats", "--color", "never"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("init.scope/cpu.stat"), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    // The row keeps what could be read: memory.current, 32 MiB.
    let row = text.lines().find(|l| l.contains("init.scope")).unwrap();
    assert!(row.contains("32.0M"), "{row}");
}
