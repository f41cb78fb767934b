//! Golden tests: `tests/golden/<scenario>/<case>.args` (one argument per line) is run as
//! `cgtree --root fixtures/<scenario> ARGS...` from the repository root, with the
//! environment cleared (PATH kept, `NO_COLOR=1`, `COLUMNS=100`). stdout, stderr and the
//! exit code must equal `<case>.stdout`, `<case>.stderr` (empty when absent) and
//! `<case>.code` (0 when absent), byte for byte. `CGTREE_BLESS=1` rewrites them.
//!
//! Cgroup ids are the inodes of the fixture's directories, which differ from one
//! checkout to the next: in JSON output (`--json`, `--jsonl`) every integer `id` and
//! `parent_id` is renumbered in order of first appearance (1, 2, 3, ...) before the
//! comparison (`common::mask_ids`), so the golden still shows which node each `parent_id`
//! names. The real numbers are checked against `stat` in tests/json.rs
//! (`json_ids_are_the_directory_inodes`).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::fs;
use std::path::{Path, PathBuf};

mod common;

struct Case {
    scenario: String,
    name: String,
    dir: PathBuf,
}

fn cases() -> Vec<Case> {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out = Vec::new();
    for scenario in fs::read_dir(&golden).expect("tests/golden") {
        let scenario = scenario.unwrap().path();
        for f in fs::read_dir(&scenario).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "args") {
                out.push(Case {
                    scenario: scenario.file_name().unwrap().to_string_lossy().into_owned(),
                    name: f.file_stem().unwrap().to_string_lossy().into_owned(),
                    dir: scenario.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.scenario, &a.name).cmp(&(&b.scenario, &b.name)));
    out
}

/// Runs cgtree on a fixture with a cleared environment (stdout and stderr as bytes).
fn run_cgtree(scenario: &str, args: &[String]) -> (Vec<u8>, Vec<u8>, i32) {
    let out = common::cgtree()
        .arg("--root")
        .arg(format!("fixtures/{scenario}"))
        .args(args)
        .output()
        .expect("run cgtree");
    (out.stdout, out.stderr, out.status.code().unwrap_or(-1))
}

/// `cgtree ids` text: the id that starts each line renumbered as `common::mask_ids` does.
fn mask_leading_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (rank, line) in text.split_inclusive('\n').enumerate() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str(&(rank + 1).to_string());
        }
        out.push_str(&line[digits..]);
    }
    out
}

/// A line diff (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", a[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn golden_cases() {
    let bless = std::env::var_os("CGTREE_BLESS").is_some_and(|v| v == "1");
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "expected golden cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for c in &cases {
        let base = c.dir.join(&c.name);
        let args: Vec<String> = fs::read_to_string(base.with_extension("args"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let (stdout, stderr, code) = run_cgtree(&c.scenario, &args);
        let (mut stdout, stderr) = (
            String::from_utf8(stdout).unwrap(),
            String::from_utf8(stderr).unwrap(),
        );
        if args.iter().any(|a| a == "--json" || a == "--jsonl") {
            stdout = common::mask_ids(&stdout);
        } else if args.first().is_some_and(|a| a == "ids") {
            stdout = mask_leading_ids(&stdout);
        }
        if bless {
            fs::write(base.with_extension("stdout"), &stdout).unwrap();
            if stderr.is_empty() {
                let _ = fs::remove_file(base.with_extension("stderr"));
            } else {
                fs::write(base.with_extension("stderr"), &stderr).unwrap();
            }
            if code == 0 {
                let _ = fs::remove_file(base.with_extension("code"));
            } else {
                fs::write(base.with_extension("code"), format!("{code}\n")).unwrap();
            }
            continue;
        }
        let want_stdout = fs::read_to_string(base.with_extension("stdout")).unwrap_or_default();
        let want_stderr = fs::read_to_string(base.with_extension("stderr")).unwrap_or_default();
        let want_code: i32 = fs::read_to_string(base.with_extension("code"))
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        let mut msg = String::new();
        if stdout != want_stdout {
            msg += &format!("stdout differs:\n{}", diff(&want_stdout, &stdout));
        }
        if stderr != want_stderr {
            msg += &format!("stderr differs:\n{}", diff(&want_stderr, &stderr));
        }
        if code != want_code {
            msg += &format!("exit code {code}, expected {want_code}\n");
        }
        if !msg.is_empty() {
            failures.push(format!(
                "== {}/{} (args {:?})\n{msg}",
                c.scenario, c.name, args
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden case(s) failed (CGTREE_BLESS=1 rewrites):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mask_ids_renumbers_integer_ids_only() {
    let text = "{\"id\": 907, \"parent_id\": null, \"x\": {\"id\": \"abc\"}}\n{\"id\":12,\"parent_id\":907}\n";
    assert_eq!(
        common::mask_ids(text),
        "{\"id\": 1, \"parent_id\": null, \"x\": {\"id\": \"abc\"}}\n{\"id\":2,\"parent_id\":1}\n"
    );
}

#[test]
fn diff_marks_changed_lines() {
    assert_eq!(diff("a\nb\nc", "a\nx\nc"), "  a\n- b\n+ x\n  c\n");
}

#[test]
fn readme_samples_are_golden_outputs() {
    let readme = fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let marker = "<!-- golden: ";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut n = 0;
    for part in readme.split(marker).skip(1) {
        let (case, rest) = part.split_once(" -->").unwrap();
        let block = rest
            .split("```text\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let (command, sample) = block.split_once('\n').unwrap();
        let golden = fs::read_to_string(dir.join(format!("{case}.stdout"))).unwrap();
        assert_eq!(
            sample, golden,
            "README sample differs from {case}.stdout (python3 fixtures/update-readme.py)"
        );
        let args: Vec<String> = fs::read_to_string(dir.join(format!("{case}.args")))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let scenario = case.split('/').next().unwrap();
        assert_eq!(
            command,
            format!("$ cgtree --root fixtures/{scenario} {}", args.join(" "))
        );
        n += 1;
    }
    assert!(n >= 2, "README shows golden samples");
}
