//! Tests of the top view: hand-built frames drawn on ratatui's `TestBackend` and written
//! as text blocks and JSON lines.
#![allow(clippy::unwrap_used)]

use super::view::{Input, Key, View};
use super::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, UNIX_EPOCH};

const M: u64 = 1024 * 1024;
const EVIL: &[u8] = "evil\x1b[31m\u{202e}gpj.exe".as_bytes();

fn row(parent: Option<usize>, depth: u32, name: &[u8], path: &str) -> TopRow {
    TopRow {
        node: 0,
        parent,
        depth,
        name: name.into(),
        path: path.as_bytes().into(),
        ..TopRow::default()
    }
}

fn usage(cpu: f64, mem: u64, tasks: u64, read: f64, write: f64) -> Usage {
    Usage {
        cpu_cores: Some(cpu),
        mem_current: Some(mem),
        mem_working_set: Some(mem / 2),
        mem_limit: Some(u64::MAX),
        tasks: Some(tasks),
        io_read_bps: Some(read),
        io_write_bps: Some(write),
        throttled_ratio: Some(0.25),
        oom_kills: Some(3),
        psi_cpu_some: Some(0.125),
        psi_mem_some: Some(0.0),
        psi_mem_full: Some(0.0),
        psi_io_some: Some(0.5),
        psi_io_full: Some(0.25),
    }
}

/// `/` with system.slice (docker-abc.scope, sshd.service), user.slice (user-1000.slice)
/// and a hostile name; numbers chosen so that each order gives a different sequence.
fn frame() -> Frame {
    let mut rows = vec![
        row(None, 0, b"/", "/"),
        row(Some(0), 1, b"system.slice", "/system.slice"),
        row(
            Some(1),
            2,
            b"docker-abc.scope",
            "/system.slice/docker-abc.scope",
        ),
        row(Some(1), 2, b"sshd.service", "/system.slice/sshd.service"),
        row(Some(0), 1, b"user.slice", "/user.slice"),
        row(
            Some(4),
            2,
            b"user-1000.slice",
            "/user.slice/user-1000.slice",
        ),
        row(Some(0), 1, EVIL, "/evil"),
    ];
    for (i, r) in rows.iter_mut().enumerate() {
        r.node = i;
    }
    rows[0].has_children = true;
    rows[1].has_children = true;
    rows[4].has_children = true;
    rows[0].usage = usage(2.0, 800 * M, 70, 3000.0, 0.0);
    rows[1].usage = usage(0.5, 300 * M, 60, 2000.0, 0.0);
    rows[2].usage = usage(0.4, 200 * M, 1, 1500.0, 500.0);
    rows[3].usage = usage(0.05, 10 * M, 5, 10.0, 0.0);
    rows[4].usage = usage(1.5, 400 * M, 50, 20.0, 0.0);
    rows[5].usage = usage(1.5, 400 * M, 50, 20.0, 0.0);
    rows[2].identity = Some("docker container web".into());
    rows[3].identity = Some("unit sshd.service".into());
    rows[5].identity = Some("user massi (1000)".into());
    rows[6].identity = Some("container \u{202e}\x07x".into());
    rows[3].errors = vec!["memory.stat: permission denied".into()];
    Frame {
        time: UNIX_EPOCH + Duration::from_secs(1_796_094_967),
        interval: Some(Duration::from_secs(1)),
        rows,
        json: None,
    }
}

fn names(f: &Frame, idx: &[usize]) -> Vec<String> {
    idx.iter()
        .map(|&i| String::from_utf8_lossy(&f.rows[i].name).into_owned())
        .collect()
}

fn draw(f: &Frame, view: &mut View, w: u16, h: u16, color: bool) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|fr| ui::draw(fr, f, view, ui::Styles::new(color)))
        .unwrap();
    t
}

/// The screen as lines of text.
fn screen(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The screen line (index) that shows `needle`.
fn line_of(lines: &[String], needle: &str) -> Option<usize> {
    lines.iter().position(|l| l.contains(needle))
}

/// The names in the order the screen shows them (those of `wanted` only).
fn screen_order(lines: &[String], wanted: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = wanted
        .iter()
        .filter_map(|n| {
            lines
                .iter()
                .position(|l| l.split_whitespace().any(|w| w == *n))
                .map(|i| (i, n.to_string()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

const NAMES: [&str; 6] = [
    "/",
    "system.slice",
    "docker-abc.scope",
    "sshd.service",
    "user.slice",
    "user-1000.slice",
];

#[test]
fn screen_shows_names_identities_numbers_and_help() {
    let f = frame();
    let mut v = View::new(Order::Cpu);
    let t = draw(&f, &mut v, 160, 20, true);
    let lines = screen(&t);
    let all = lines.join("\n");
    assert!(lines[0].contains("cgtree top /"), "{all}");
    assert!(lines[0].contains("2026-12-01 03:16:07 UTC"), "{all}");
    assert!(lines[0].contains("interval 1.0s"), "{all}");
    assert!(lines[0].contains("order: cpu"), "{all}");
    let head = &lines[1];
    for h in [
        "CGROUP", "CPU%▼", "THR%", "WSET", "MEM", "LIMIT", "OOM", "TASKS", "READ/s", "WRITE/s",
        "PSIcpu", "PSImem", "PSIio",
    ] {
        assert!(head.contains(h), "{h} in {head}");
    }
    let docker = &lines[line_of(&lines, "docker-abc.scope").unwrap()];
    assert!(docker.contains("[docker container web]"), "{docker}");
    // 0.4 cores, 25% throttled, 100M working set, 200M current, no limit, 3 OOM kills,
    // 1 task, 1.5K read/s, 500 written/s, pressure 12.5% / 0.0% / 50.0%.
    let cells: Vec<&str> = docker.split_whitespace().collect();
    assert_eq!(
        &cells[cells.len() - 12..],
        &[
            "40.0", "25.0", "100.0M", "200.0M", "max", "3", "1", "1.5K", "500", "12.5", "0.0",
            "50.0"
        ],
        "{docker}"
    );
    let sshd = &lines[line_of(&lines, "sshd.service").unwrap()];
    assert!(
        sshd.contains("[unit sshd.service] (! memory.stat: permission"),
        "{sshd}"
    );
    assert!(lines[19].starts_with("q quit  ? help"), "{all}");
    assert!(all.contains("▾ system.slice"), "{all}");
}

#[test]
fn unknown_numbers_are_dashes() {
    let mut f = frame();
    for r in &mut f.rows {
        r.usage = Usage::default();
    }
    let mut v = View::new(Order::Cpu);
    let lines = screen(&draw(&f, &mut v, 160, 12, false));
    let l = &lines[line_of(&lines, "sshd.service").unwrap()];
    let cells: Vec<&str> = l.split_whitespace().collect();
    assert_eq!(&cells[cells.len() - 12..], &["-"; 12], "{l}");
}

#[test]
fn each_order_key_sorts_siblings_under_their_parent() {
    let f = frame();
    let cases: [(char, Order, [&str; 6]); 5] = [
        (
            'c',
            Order::Cpu,
            [
                "/",
                "user.slice",
                "user-1000.slice",
                "system.slice",
                "docker-abc.scope",
                "sshd.service",
            ],
        ),
        (
            'm',
            Order::Memory,
            [
                "/",
                "user.slice",
                "user-1000.slice",
                "system.slice",
                "docker-abc.scope",
                "sshd.service",
            ],
        ),
        (
            'i',
            Order::Io,
            [
                "/",
                "system.slice",
                "docker-abc.scope",
                "sshd.service",
                "user.slice",
                "user-1000.slice",
            ],
        ),
        (
            't',
            Order::Tasks,
            [
                "/",
                "system.slice",
                "sshd.service",
                "docker-abc.scope",
                "user.slice",
                "user-1000.slice",
            ],
        ),
        (
            'p',
            Order::Path,
            [
                "/",
                "system.slice",
                "docker-abc.scope",
                "sshd.service",
                "user.slice",
                "user-1000.slice",
            ],
        ),
    ];
    // Memory differs from CPU in the subtree of system.slice only through the numbers;
    // make the difference visible: under memory, system.slice's children keep
    // docker (200M) before sshd (10M) as under CPU, but the tasks order flips them.
    for (key, order, want) in cases {
        // Start from another order so that the key is what changes it.
        let mut v = View::new(if order == Order::Path {
            Order::Cpu
        } else {
            Order::Path
        });
        v.key(&f, Key::Char(key));
        assert_eq!(v.order, order, "{key}");
        let lines = screen(&draw(&f, &mut v, 160, 20, false));
        assert_eq!(screen_order(&lines, &NAMES), want, "key {key}");
        assert!(
            lines[0].contains(&format!("order: {}", order.label())),
            "{key}"
        );
        // The hostile name (no numbers) is last under / in every numeric order, and
        // first in path order ("evil" < "system.slice").
        let evil = line_of(&lines, "evil").unwrap();
        let sys = line_of(&lines, "system.slice").unwrap();
        let user = line_of(&lines, "user-1000.slice").unwrap();
        if order == Order::Path {
            assert!(evil < sys, "{key}");
        } else {
            assert!(evil > sys && evil > user, "{key}");
        }
    }
}

#[test]
fn collapse_and_expand_a_subtree() {
    let f = frame();
    let mut v = View::new(Order::Path);
    // Path order: /, evil, system.slice, ...: two lines down is system.slice.
    v.key(&f, Key::Down);
    v.key(&f, Key::Down);
    assert_eq!(v.selected.as_deref(), Some(&b"/system.slice"[..]));
    v.key(&f, Key::Enter);
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(line_of(&lines, "▸ system.slice").is_some(), "{lines:#?}");
    assert!(line_of(&lines, "docker-abc.scope").is_none());
    assert!(line_of(&lines, "sshd.service").is_none());
    assert!(line_of(&lines, "user-1000.slice").is_some());
    // `+` expands it again.
    v.key(&f, Key::Char('+'));
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(line_of(&lines, "▾ system.slice").is_some());
    assert!(line_of(&lines, "docker-abc.scope").is_some());
    // `-` and Left collapse; Left on a child goes to its parent.
    v.key(&f, Key::Char('-'));
    assert_eq!(names(&f, &v.visible(&f)).len(), 5);
    v.key(&f, Key::Right);
    v.key(&f, Key::Down);
    assert_eq!(
        v.selected.as_deref(),
        Some(&b"/system.slice/docker-abc.scope"[..])
    );
    v.key(&f, Key::Left);
    assert_eq!(v.selected.as_deref(), Some(&b"/system.slice"[..]));
    v.key(&f, Key::Left);
    assert!(v.collapsed.contains(&b"/system.slice"[..]));
    // Enter on a leaf does nothing.
    v.key(&f, Key::Char('G'));
    let before = v.collapsed.clone();
    v.key(&f, Key::Enter);
    assert_eq!(v.collapsed, before);
}

#[test]
fn filter_shows_matches_with_their_ancestors() {
    let f = frame();
    let mut v = View::new(Order::Cpu);
    v.key(&f, Key::Char('/'));
    assert_eq!(v.input, Input::Filter);
    for c in "WEB".chars() {
        v.key(&f, Key::Char(c));
    }
    // While typing, the prompt is on the last line and keys are not commands.
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert_eq!(lines[19], "/WEB_");
    v.key(&f, Key::Enter);
    assert_eq!(v.input, Input::Normal);
    // Matched on the identity ("docker container web"), case-insensitively.
    assert_eq!(
        names(&f, &v.visible(&f)),
        ["/", "system.slice", "docker-abc.scope"]
    );
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(lines[0].contains("filter: WEB"));
    assert!(line_of(&lines, "sshd.service").is_none());
    assert!(line_of(&lines, "user.slice").is_none());
    // A collapsed subtree does not hide a match.
    v.collapsed.insert(b"/system.slice"[..].into());
    assert_eq!(names(&f, &v.visible(&f)).len(), 3);
    // By name; Backspace edits; no match shows a note.
    v.key(&f, Key::Char('/'));
    for _ in 0..3 {
        v.key(&f, Key::Backspace);
    }
    for c in "1000".chars() {
        v.key(&f, Key::Char(c));
    }
    v.key(&f, Key::Enter);
    assert_eq!(
        names(&f, &v.visible(&f)),
        ["/", "user.slice", "user-1000.slice"]
    );
    v.key(&f, Key::Char('/'));
    v.key(&f, Key::Char('z'));
    v.key(&f, Key::Enter);
    assert!(v.visible(&f).is_empty());
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(line_of(&lines, "no cgroup matches").is_some());
    // Esc clears the filter (and does not quit).
    assert_eq!(v.key(&f, Key::Esc), view::Action::None);
    assert!(v.filter.is_empty());
    // Without the filter the collapsed subtree is hidden again.
    assert_eq!(v.visible(&f).len(), 5);
    assert_eq!(v.key(&f, Key::Esc), view::Action::Quit);
}

#[test]
fn g_and_big_g_select_first_and_last_and_mark_them() {
    let f = frame();
    let mut v = View::new(Order::Cpu);
    v.key(&f, Key::Char('G'));
    assert_eq!(v.selected.as_deref(), Some(&b"/evil"[..]));
    let t = draw(&f, &mut v, 160, 20, true);
    let lines = screen(&t);
    let y = line_of(&lines, "evil").unwrap();
    let buf = t.backend().buffer();
    let reversed = |y: usize| {
        buf[(5, y as u16)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    assert!(reversed(y));
    assert!(!reversed(line_of(&lines, "system.slice").unwrap()));
    v.key(&f, Key::Char('g'));
    assert_eq!(v.selected.as_deref(), Some(&b"/"[..]));
    v.key(&f, Key::PageDown);
    assert_eq!(
        v.selected.as_deref(),
        Some(&b"/evil"[..]),
        "a page is 17 rows"
    );
    v.key(&f, Key::Up);
    v.key(&f, Key::Char('k'));
    v.key(&f, Key::Char('j'));
    assert_eq!(
        v.selected.as_deref(),
        Some(&b"/system.slice/sshd.service"[..])
    );
    v.key(&f, Key::PageUp);
    assert_eq!(v.selected.as_deref(), Some(&b"/"[..]));
}

#[test]
fn scrolling_keeps_the_selection_on_a_short_screen() {
    let f = frame();
    let mut v = View::new(Order::Cpu);
    v.key(&f, Key::Char('G'));
    // 6 lines: header, column header, 3 rows, help line.
    let lines = screen(&draw(&f, &mut v, 160, 6, false));
    assert!(line_of(&lines, "evil").is_some(), "{lines:#?}");
    assert!(line_of(&lines, "user.slice").is_none(), "{lines:#?}");
    v.key(&f, Key::Char('g'));
    let lines = screen(&draw(&f, &mut v, 160, 6, false));
    assert!(lines[2].contains('/'), "{lines:#?}");
}

#[test]
fn pause_and_help_keys() {
    let f = frame();
    let mut v = View::new(Order::Cpu);
    v.key(&f, Key::Char(' '));
    assert!(v.paused);
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(lines[0].contains("PAUSED"));
    v.key(&f, Key::Char('P'));
    assert!(!v.paused);
    let lines = screen(&draw(&f, &mut v, 160, 20, false));
    assert!(!lines[0].contains("PAUSED"));
    // `p` is the path order, not pause.
    v.key(&f, Key::Char('p'));
    assert!(!v.paused);
    assert_eq!(v.order, Order::Path);
    v.key(&f, Key::Char('?'));
    let lines = screen(&draw(&f, &mut v, 160, 24, false));
    let all = lines.join("\n");
    assert!(all.contains("keys"), "{all}");
    assert!(all.contains("filter by name or identity"), "{all}");
    // Any key closes the help; `?` only closes it.
    v.key(&f, Key::Char('?'));
    assert!(!v.help);
    assert_eq!(v.key(&f, Key::CtrlC), view::Action::Quit);
    assert_eq!(v.key(&f, Key::Char('q')), view::Action::Quit);
}

#[test]
fn hostile_names_are_escaped_on_the_screen() {
    let f = frame();
    let mut v = View::new(Order::Path);
    // A filter typed with a control character keeps it out.
    v.key(&f, Key::Char('/'));
    v.key(&f, Key::Char('\u{1b}'));
    v.key(&f, Key::Char('\u{202e}'));
    v.key(&f, Key::Enter);
    assert!(v.filter.is_empty());
    let t = draw(&f, &mut v, 160, 20, true);
    let lines = screen(&t);
    let all = lines.join("\n");
    let l = &lines[line_of(&lines, "evil").unwrap()];
    assert!(
        l.contains("evil\\x1b[31m\\u{202e}gpj.exe [container \\u{202e}\\x07x]"),
        "{l}"
    );
    let buf = t.backend().buffer();
    for c in buf.content() {
        assert!(
            !c.symbol().chars().any(crate::sanitize::must_escape),
            "{:?} in {all}",
            c.symbol()
        );
    }
}

#[test]
fn long_names_keep_their_end_and_identity() {
    let mut f = frame();
    f.rows[2].name = format!("docker-{}.scope", "8aea66".repeat(10))
        .into_bytes()
        .into();
    let mut v = View::new(Order::Cpu);
    let lines = screen(&draw(&f, &mut v, 120, 20, false));
    let l =
        &lines[line_of(&lines, "docker-8aea").unwrap_or_else(|| panic!("{}", lines.join("\n")))];
    // The name is cut in its middle (its end kept), the identity keeps half the cell.
    assert!(l.contains("docker-8aea66….scope [docker container"), "{l}");
    assert!(l.chars().count() <= 120);
    // Narrower: pressure columns are left out first.
    assert!(lines[1].contains("CPU%") && lines[1].contains("OOM"));
    assert!(!lines[1].contains("PSIio"), "{}", lines[1]);
    let lines = screen(&draw(&f, &mut v, 80, 20, false));
    assert!(lines[1].contains("CPU%") && lines[1].contains("MEM"));
    assert!(
        !lines[1].contains("PSI") && !lines[1].contains("OOM"),
        "{}",
        lines[1]
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 80));
}

fn block(f: &Frame, order: Order, width: Option<usize>) -> String {
    let mut out = crate::term::Term::new(Vec::new(), false);
    batch::write_block(f, order, width, &mut out).unwrap();
    String::from_utf8(out_inner(out)).unwrap()
}

fn out_inner(t: crate::term::Term<Vec<u8>>) -> Vec<u8> {
    let mut t = t;
    std::io::Write::flush(&mut t).unwrap();
    t.into_inner()
}

#[test]
fn batch_block_is_the_sorted_tree_with_columns() {
    let f = frame();
    let text = block(&f, Order::Io, None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "cgtree top /  2026-12-01 03:16:07 UTC  interval 1.0s  order: io"
    );
    assert!(lines[1].starts_with("CGROUP "));
    assert!(lines[1].ends_with("PSIcpu PSImem  PSIio"), "{}", lines[1]);
    let first_words: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        first_words,
        [
            "/",
            "system.slice",
            "docker-abc.scope",
            "sshd.service",
            "user.slice",
            "user-1000.slice",
            "evil\\x1b[31m\\u{202e}gpj.exe",
            ""
        ]
    );
    // Indented by depth; identities in brackets; numbers aligned at the right.
    assert!(lines[4].starts_with("    docker-abc.scope [docker container web]"));
    let w = lines[2].len();
    assert!(lines[2..8].iter().all(|l| l.len() == w), "{text}");
    assert!(
        lines[4].ends_with(
            "40.0  25.0  100.0M  200.0M     max    3      1     1.5K      500   12.5    0.0   50.0"
        ),
        "{}",
        lines[4]
    );
    assert!(lines[8].ends_with("gpj.exe [container \\u{202e}\\x07x]      -     -       -       -       -    -      -        -        -      -      -      -"), "{}", lines[8]);
    assert_eq!(lines.last(), Some(&""));
    assert!(!text.contains('\x1b'));
}

#[test]
fn batch_block_is_cut_to_the_width() {
    let f = frame();
    let text = block(&f, Order::Cpu, Some(70));
    for l in text.lines() {
        assert!(l.chars().count() <= 70, "{l}");
    }
    assert!(text.contains("CPU%"));
    assert!(!text.contains("PSIio"));
}

#[test]
fn json_line_per_frame() {
    let mut f = frame();
    f.rows[6].path = b"/evil\xff"[..].into();
    let mut out = Vec::new();
    batch::write_json_line(&f, &mut out).unwrap();
    batch::write_json_line(&f, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["time"], 1_796_094_967.0);
    assert_eq!(v["interval_seconds"], 1.0);
    let c = &v["cgroups"];
    assert_eq!(c.as_array().unwrap().len(), 7);
    assert_eq!(c[2]["path"], "/system.slice/docker-abc.scope");
    assert_eq!(c[2]["identity"], "docker container web");
    assert_eq!(c[2]["usage"]["cpu_cores"], 0.4);
    assert_eq!(c[2]["usage"]["memory_current_bytes"], 200 * M);
    assert_eq!(c[3]["errors"][0], "memory.stat: permission denied");
    assert_eq!(c[6]["path"]["bytes"], "L2V2aWz/");
    assert_eq!(c[6]["identity"], "container \u{202e}\x07x");
    // Characters a terminal acts on are JSON escapes.
    assert!(!text.contains('\u{202e}') && !text.contains('\x07'));
    // A sampler's own object is written instead.
    f.json = Some(b"{\"sample\":\"\xe2\x80\xae\"}".to_vec());
    let mut out = Vec::new();
    batch::write_json_line(&f, &mut out).unwrap();
    // ... through the same escaping (U+202E as a JSON escape).
    assert_eq!(out, b"{\"sample\":\"\\u202e\"}\n");
}

#[test]
fn number_formats() {
    assert_eq!(fmt::percent(Some(0.0)), "0.0");
    assert_eq!(fmt::percent(Some(2.5)), "250.0");
    assert_eq!(fmt::percent(Some(f64::NAN)), "-");
    assert_eq!(fmt::percent(None), "-");
    assert_eq!(fmt::bytes(Some(0)), "0");
    assert_eq!(fmt::bytes(Some(1023)), "1023");
    assert_eq!(fmt::bytes(Some(1536)), "1.5K");
    assert_eq!(fmt::bytes(Some(3 * 1024 * M)), "3.0G");
    assert_eq!(fmt::bytes(Some(u64::MAX - 1)), "16.0E");
    assert_eq!(fmt::limit(Some(u64::MAX)), "max");
    assert_eq!(fmt::limit(Some(1024)), fmt::bytes(Some(1024)));
    // memory.current at u64::MAX is a number, not "no limit".
    assert_ne!(fmt::bytes(Some(u64::MAX)), "max");
    assert_eq!(fmt::bytes(None), "-");
    assert_eq!(fmt::rate(Some(-1.0)), "-");
    assert_eq!(fmt::rate(Some(2048.0)), "2.0K");
    assert_eq!(fmt::count(Some(7)), "7");
    assert_eq!(fmt::count(None), "-");
}

#[test]
fn utc_dates() {
    let at = |s: u64| ui::utc(UNIX_EPOCH + Duration::from_secs(s));
    assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(at(1_796_094_967), "2026-12-01 03:16:07 UTC");
    assert_eq!(at(4_107_628_799), "2100-03-01 23:59:59 UTC");
}

#[test]
fn sorting_survives_a_parent_cycle() {
    let mut f = frame();
    f.rows[1].parent = Some(2);
    f.rows[2].parent = Some(1);
    let order = view::sorted(&f, Order::Cpu);
    assert!(order.len() <= f.rows.len());
    let mut v = View::new(Order::Cpu);
    v.filter = "web".into();
    assert!(v.visible(&f).len() <= f.rows.len());
}

#[test]
fn tree_source_reads_a_fixture() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/arch-docker-kind");
    let mut src = TreeSource::new(&root, "/", None, false, NoSampler);
    let f1 = src.next_frame().unwrap();
    let f2 = src.next_frame().unwrap();
    // The same cgroups: identified once, not at every frame.
    assert_eq!(src.identifications(), 1);
    assert_eq!(f1.interval, None);
    assert!(f2.interval.is_some());
    assert_eq!(f1.rows[0].path.as_ref(), b"/");
    let kind = f1
        .rows
        .iter()
        .find(|r| r.identity.as_deref() == Some("docker container kind-control-plane · kind node"))
        .unwrap();
    assert!(kind.path.starts_with(b"/system.slice/docker-"));
    assert!(kind.has_children);
    assert_eq!(kind.depth, 2);
    let parent = &f1.rows[kind.parent.unwrap()];
    assert_eq!(parent.name.as_ref(), b"system.slice");
    // Pre-order: every row's parent comes before it.
    for (i, r) in f1.rows.iter().enumerate() {
        assert_eq!(r.node, i);
        if let Some(p) = r.parent {
            assert!(p < i);
            assert_eq!(f1.rows[p].depth + 1, r.depth);
        }
        assert_eq!(r.usage, Usage::default());
    }
    // Depth limit.
    let mut src = TreeSource::new(&root, "/system.slice", Some(1), false, NoSampler);
    let f = src.next_frame().unwrap();
    assert_eq!(f.rows[0].path.as_ref(), b"/system.slice");
    assert_eq!(f.rows[0].depth, 0);
    assert!(f.rows.iter().all(|r| r.depth <= 1));
    assert!(f.rows.len() > 1);
}

#[test]
fn tree_stats_columns_come_from_the_frame() {
    use clap::Parser;
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/arch-docker-kind");
    let args = crate::cli::Args::parse_from([
        "cgtree".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
        "--stats".as_ref(),
    ]);
    let env = crate::config::Env {
        columns: Some("200".into()),
        no_color: None,
        term: None,
        stdout_tty: false,
        term_width: None,
    };
    let cfg = crate::config::Config::new(args, &env).unwrap();
    assert_eq!(cfg.stats, Some(None));
    let mut b = cgroup_core::TreeBuilder::new();
    b.host_root(&root).identify(true);
    let tree = b.build().unwrap();
    let mut frame = sample_tree(&tree, None, &mut NoSampler).unwrap();
    assert_eq!(frame.interval, None);
    let user = frame
        .rows
        .iter()
        .position(|r| r.name.as_ref() == b"user.slice")
        .unwrap();
    frame.rows[user].usage = usage(0.75, 3 * M, 12, 0.0, 2048.0);
    let stats = crate::render::tree::Stats::new(&tree, &frame, cfg.width);
    let mut out = crate::term::Term::new(Vec::new(), false);
    crate::render::tree::render(&tree, &cfg, Some(&stats), None, &mut out).unwrap();
    let text = String::from_utf8(out_inner(out)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].trim_start().starts_with("CPU%  THR%"), "{text}");
    assert!(lines[0].ends_with("PSIio CGROUP"), "{text}");
    let l = lines.iter().find(|l| l.contains("─user.slice")).unwrap();
    let cells: Vec<&str> = l.split_whitespace().take(12).collect();
    assert_eq!(
        cells,
        ["75.0", "25.0", "1.5M", "3.0M", "max", "3", "12", "0", "2.0K", "12.5", "0.0", "50.0"],
        "{l}"
    );
    // Other cgroups: dashes; process lines: blank cells, the tree column aligned.
    let init = lines.iter().find(|l| l.contains("─init.scope")).unwrap();
    assert!(init.trim_start().starts_with("-     -"), "{init}");
    let col = l
        .find("├─user.slice")
        .or_else(|| l.find("└─user.slice"))
        .unwrap();
    let proc_line = lines.iter().find(|l| l.contains("/sbin/init")).unwrap();
    assert!(proc_line[..col].trim().is_empty(), "{proc_line}");
    // Two samples with a delay: the interval is the delay.
    let f = sample_tree(&tree, Some(Duration::from_millis(10)), &mut NoSampler).unwrap();
    assert_eq!(f.interval, Some(Duration::from_millis(10)));
}

#[test]
fn cuts_count_terminal_columns() {
    use view::{cut, cut_middle, fit, width_of};
    assert_eq!(cut("abcdef", 4), "abc…");
    assert_eq!(cut("abc", 3), "abc");
    assert_eq!(cut("abc", 0), "");
    // Wide characters take two columns.
    assert_eq!(cut("日本語テキスト", 6), "日本…");
    assert_eq!(width_of(&cut("日本語テキスト", 6)), 5);
    assert_eq!(
        cut_middle("docker-0123456789abcdef.scope", 16),
        "docker-012…scope"
    );
    let m = cut_middle("日本語日本語日本語日本語.scope", 12);
    assert!(width_of(&m) <= 12, "{m}");
    assert!(m.starts_with("日本語") && m.ends_with("…ope"), "{m}");
    let (n, i) = fit("a-very-long-cgroup-name.scope", Some("pod ns/name"), 24);
    assert_eq!(width_of(&n) + width_of(&i), 24);
    assert_eq!(i, " pod ns/name");
    let (n, i) = fit(
        "x.scope",
        Some("a very long identity label that is cut"),
        20,
    );
    assert_eq!(n, "x.scope");
    assert_eq!(i, " a very long…");
}

#[test]
fn wide_names_keep_the_columns_aligned() {
    let mut f = frame();
    f.rows[3].name = "日本語の名前日本語の名前日本語の名前日本語の名前日本語の名前.service"
        .as_bytes()
        .into();
    let mut v = View::new(Order::Cpu);
    let t = draw(&f, &mut v, 120, 20, false);
    let lines = screen(&t);
    // The CPU% cell of every row ends in the same column.
    let buf = t.backend().buffer();
    let header = &lines[1];
    let cpu_end = header.find("CPU%").unwrap() + "CPU%▼".chars().count();
    let y = line_of(&lines, "日").unwrap();
    let row: String = (0..buf.area.width)
        .map(|x| buf[(x, y as u16)].symbol().to_string())
        .collect();
    assert!(row.contains('…'), "{row}");
    // Cells in screen columns: the text before CPU% ends within the name column.
    let sshd_cpu: String = (cpu_end as u16 - 4..cpu_end as u16)
        .map(|x| buf[(x, y as u16)].symbol().to_string())
        .collect();
    assert_eq!(sshd_cpu, " 5.0", "{row}");
    let text = block(&f, Order::Cpu, Some(120));
    for l in text.lines() {
        assert!(view::width_of(l) <= 120, "{l}");
    }
}
