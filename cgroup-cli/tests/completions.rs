//! `cgtree completions SHELL` and `cgtree man [SUBCOMMAND...]` (issue #17, item 2).
//!
//! - Each shell's script is produced and parses in that shell (`bash -n`, `zsh -n`,
//!   `fish --no-execute`); bash's and fish's actually complete (`cgtree me` → `metrics`).
//! - The manual page renders with `man -l` without a groff warning and names every
//!   subcommand that `cgtree --help` lists; each subcommand's own page renders.
//! - `completions` and `man` are subcommands, never read as a cgroup path, even where a
//!   cgroup of that name exists (which stays reachable as `/completions`).
//!
//! - The completion computed at run time (`COMPLETE=SHELL cgtree`, clap_complete's
//!   `unstable-dynamic`): bash's and fish's registration scripts complete subcommands,
//!   and cgroup paths below the cgroup2 mount of the command line's `--root` for every
//!   `CGROUP_PATH` argument; zsh's parses; names with control characters are never
//!   offered.
//!
//! Needs bash, zsh, fish and man-db (with groff): a missing one is a failure under
//! `CI=true`, else the check is skipped with a message on stderr.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `cgtree ARGS` with exit status 0 and nothing on stderr: its stdout.
fn cgtree_ok(args: &[&str]) -> String {
    let out = common::cgtree().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "cgtree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "cgtree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `program args` with `stdin`; `None` when the program is not installed (a
/// failure under CI=true).
fn run_tool(program: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Option<Output> {
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some_and(|v| v == "true") {
                panic!("{program} is needed in CI: {e}");
            }
            eprintln!("{program} not installed: this check is skipped");
            return None;
        }
        Err(e) => panic!("{program}: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

/// Writes `text` to a new file in `dir`; returns its path as a string.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The subcommands `cgtree --help` lists (its own text, not the generators').
fn subcommands_from_help() -> Vec<String> {
    let help = cgtree_ok(&["--help"]);
    let mut names = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Commands:" {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            let name = line.split_whitespace().next().unwrap();
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    assert!(names.len() >= 10, "{names:?}");
    names
}

#[test]
fn every_shell_gets_a_script_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", &["-n"][..]),
        ("zsh", &["-n"][..]),
        ("fish", &["--no-execute"][..]),
        ("elvish", &[][..]),
        ("powershell", &[][..]),
    ] {
        let script = cgtree_ok(&["completions", shell]);
        assert!(script.contains("cgtree"), "{shell}");
        // Every subcommand is in the script.
        for sub in subcommands_from_help() {
            assert!(script.contains(&sub), "{shell}: {sub} missing");
        }
        if check.is_empty() {
            continue; // elvish, PowerShell: not installed on the CI machine.
        }
        let path = file(dir.path(), &format!("cgtree.{shell}"), &script);
        let mut args = check.to_vec();
        args.push(&path);
        if let Some(out) = run_tool(shell, &args, "", &[]) {
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{shell} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// What bash's completion function offers for the words of `line` (the last one being
/// completed), with the script `cgtree completions bash` wrote.
fn bash_complete(script: &str, words: &[&str]) -> Option<Vec<String>> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {script}\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _cgtree cgtree '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1,
        line = words.join(" "),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = run_tool("bash", &["--norc", "--noprofile"], &program, &[])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    Some(v)
}

#[test]
fn bash_completes_subcommands_flags_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(
        dir.path(),
        "cgtree.bash",
        &cgtree_ok(&["completions", "bash"]),
    );
    let Some(got) = bash_complete(&script, &["cgtree", "me"]) else {
        return;
    };
    assert_eq!(got, ["metrics"]);
    assert_eq!(
        bash_complete(&script, &["cgtree", "completions", "z"]).unwrap(),
        ["zsh"]
    );
    assert_eq!(
        bash_complete(&script, &["cgtree", "top", "--order", "m"]).unwrap(),
        ["memory"]
    );
    assert_eq!(
        bash_complete(&script, &["cgtree", "metrics", "--for"]).unwrap(),
        ["--format"]
    );
    // Several candidates: every subcommand starting with "i".
    assert_eq!(
        bash_complete(&script, &["cgtree", "i"]).unwrap(),
        ["id", "ids"]
    );
}

#[test]
fn fish_completes_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(
        dir.path(),
        "cgtree.fish",
        &cgtree_ok(&["completions", "fish"]),
    );
    let program = format!("source {script}; complete -C 'cgtree me'");
    let Some(out) = run_tool("fish", &["--no-config", "-c", &program], "", &[]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["metrics"], "{text}");
}

/// `page` rendered by `man -l -` at 100 columns, plain text; `None` without man.
fn man_render(page: &str) -> Option<String> {
    let out = run_tool(
        "man",
        &["--warnings", "-l", "-"],
        page,
        &[
            ("MANWIDTH", "100"),
            ("MAN_KEEP_FORMATTING", "0"),
            ("LC_ALL", "C.UTF-8"),
        ],
    )?;
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "man -l: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Without a terminal man writes plain text, but strip any overstrike left.
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        plain.push(c);
    }
    Some(plain)
}

#[test]
fn man_page_renders_and_names_every_subcommand() {
    let page = cgtree_ok(&["man"]);
    assert!(
        page.contains(".TH cgtree 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    let Some(text) = man_render(&page) else {
        return;
    };
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS"] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} section:\n{text}"
        );
    }
    for sub in subcommands_from_help() {
        let reference = format!("cgtree-{sub}(1)");
        assert!(
            text.lines().any(|l| l.trim() == reference),
            "{reference} missing:\n{text}"
        );
        // And that page exists, under that name.
        let sub_page = cgtree_ok(&["man", &sub]);
        let sub_text = man_render(&sub_page).unwrap();
        // groff justifies: words are compared, not spaces.
        let words: Vec<&str> = sub_text.split_whitespace().collect();
        assert!(
            words
                .windows(3)
                .any(|w| w[0] == "NAME" && w[1] == format!("cgtree-{sub}") && w[2] == "-"),
            "cgtree man {sub}:\n{sub_text}"
        );
        assert!(
            sub_text.contains("cgtree 0."),
            "no release named:\n{sub_text}"
        );
    }
    // A subcommand of a subcommand.
    let apply = man_render(&cgtree_ok(&["man", "provision", "apply"])).unwrap();
    assert!(apply.contains("--run-commands"), "{apply}");
}

#[test]
fn man_names_an_unknown_subcommand() {
    let out = common::cgtree()
        .args(["man", "provision", "nope\u{1b}[2J"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "cgtree: man: no subcommand \"nope\\x1b[2J\" in provision; there are: check, plan, apply\n"
    );
}

#[test]
fn completions_and_man_are_not_cgroup_paths() {
    // A host whose root has cgroups named like the new subcommands.
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    fs::create_dir_all(dir.path().join("proc")).unwrap();
    for d in ["", "completions", "man"] {
        let d = cg.join(d);
        fs::create_dir_all(&d).unwrap();
        for f in [
            "cgroup.controllers",
            "cgroup.subtree_control",
            "cgroup.procs",
        ] {
            fs::write(d.join(f), "").unwrap();
        }
        if d != cg {
            fs::write(d.join("cgroup.type"), "domain\n").unwrap();
        }
    }
    let root = dir.path().to_str().unwrap();
    let script = cgtree_ok(&["--root", root, "completions", "bash"]);
    assert!(script.contains("complete -F _cgtree"), "{script}");
    assert_eq!(script, cgtree_ok(&["completions", "bash"]));
    let page = cgtree_ok(&["--root", root, "man"]);
    assert!(page.contains(".TH cgtree 1"), "{page}");
    // The cgroups are still reachable by their paths.
    for name in ["completions", "man"] {
        let tree = cgtree_ok(&["--root", root, "-a", &format!("/{name}")]);
        assert!(tree.lines().next().unwrap().contains(name), "{tree}");
        assert!(!tree.contains("complete -F"), "{tree}");
    }
    // A shell cgtree has no script for is a usage error, not a path.
    let out = common::cgtree()
        .args(["--root", root, "completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}

#[test]
fn json_is_refused() {
    for args in [
        &["completions", "bash", "--json"][..],
        &["man", "--json"][..],
    ] {
        let out = common::cgtree().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--json is not an output"),
            "{args:?}"
        );
    }
}

#[test]
fn readme_installs_every_page() {
    let readme = fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("for s in ") && l.contains("; do"))
        .expect("README: the loop installing the subcommands' pages");
    let listed: Vec<&str> = line["for s in ".len()..line.find("; do").unwrap()]
        .split_whitespace()
        .collect();
    assert_eq!(listed, subcommands_from_help(), "README's loop: {line}");
}

/// The registration script `COMPLETE=shell cgtree` writes (it calls this test's
/// binary by its absolute path).
fn registration(shell: &str) -> String {
    let out = common::cgtree().env("COMPLETE", shell).output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "COMPLETE={shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What the function that bash's registration `script` (a file) attached to `cgtree`
/// offers for the last of `words`, as bash calls it at a Tab; sorted.
fn bash_dynamic(script: &str, words: &[&str]) -> Option<Vec<String>> {
    let program = r#"
        source "$1"; shift
        spec=$(complete -p cgtree) || exit 3
        fn=${spec##*-F }; fn=${fn%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$fn" cgtree "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let mut args = vec!["--norc", "--noprofile", "-c", program, "bash", script];
    args.extend_from_slice(words);
    let out = run_tool("bash", &args, "", &[])?;
    assert!(
        out.status.success(),
        "{words:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    Some(v)
}

fn fixture(name: &str) -> String {
    common::repo_root()
        .join("fixtures")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn dynamic_bash_completes_cgroup_paths_below_root() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(dir.path(), "cgtree.bash", &registration("bash"));
    let desktop = fixture("desktop");
    let Some(got) = bash_dynamic(&script, &["cgtree", "--root", &desktop, "/"]) else {
        return;
    };
    assert_eq!(got, ["/init.scope/", "/system.slice/", "/user.slice/"]);
    // Subcommands and flags are still completed.
    assert_eq!(
        bash_dynamic(&script, &["cgtree", "me"]).unwrap(),
        ["metrics"]
    );
    assert_eq!(
        bash_dynamic(&script, &["cgtree", "top", "--order", "m"]).unwrap(),
        ["memory"]
    );
    // One level at a time, below the directory typed so far.
    assert_eq!(
        bash_dynamic(
            &script,
            &["cgtree", "--root", &desktop, "/user.slice/user-1000.slice/"]
        )
        .unwrap(),
        [
            "/user.slice/user-1000.slice/session-2.scope/",
            "/user.slice/user-1000.slice/user@1000.service/"
        ]
    );
    // Every subcommand's CGROUP_PATH, with --root before or after the subcommand
    // (it is a global flag) and in its `--root=DIR` form.
    for words in [
        &["cgtree", "--root", &desktop, "top", "/sys"][..],
        &["cgtree", "ids", "--root", &desktop, "/sys"],
        &["cgtree", &format!("--root={desktop}"), "watch", "/sys"],
        &["cgtree", "--root", &desktop, "metrics", "/sys"],
        &[
            "cgtree", "--root", &desktop, "snapshot", "out", "--cgroup", "/sys",
        ],
    ] {
        assert_eq!(
            bash_dynamic(&script, words).unwrap(),
            ["/system.slice/"],
            "{words:?}"
        );
    }
    // Another --root, other cgroups: the candidates come from the root given.
    let k8s = fixture("k8s-systemd");
    assert_eq!(
        bash_dynamic(&script, &["cgtree", "--root", &k8s, "/"]).unwrap(),
        ["/init.scope/", "/kubepods.slice/", "/system.slice/"]
    );
    // A path outside the hierarchy offers nothing.
    assert_eq!(
        bash_dynamic(
            &script,
            &["cgtree", "--root", &desktop, "/user.slice/../../"]
        )
        .unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn dynamic_fish_completes_cgroup_paths() {
    let program = format!(
        "{} | source; complete -C 'cgtree --root {} /user.slice/u'; complete -C 'cgtree me'",
        "COMPLETE=fish cgtree",
        fixture("desktop")
    );
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_cgtree"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let Some(out) = run_tool(
        "fish",
        &["--no-config", "-c", &program],
        "",
        &[("PATH", &path)],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let values: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        values,
        ["/user.slice/user-1000.slice/", "metrics"],
        "{text}"
    );
}

#[test]
fn dynamic_zsh_registration_parses() {
    let dir = tempfile::tempdir().unwrap();
    let script = registration("zsh");
    assert!(script.starts_with("#compdef cgtree\n"), "{script}");
    let path = file(dir.path(), "_cgtree", &script);
    if let Some(out) = run_tool("zsh", &["-n", &path], "", &[]) {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dynamic_completion_never_offers_control_characters() {
    // A host whose root has cgroups named with an escape sequence, a line feed and
    // bash's candidate separator (U+000B), beside a plain one.
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    for d in [
        "",
        "ok.scope",
        "evil\u{1b}]0;x\u{7}.scope",
        "nl\nx.scope",
        "vt\u{b}x.scope",
    ] {
        let d = cg.join(d);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("cgroup.procs"), "").unwrap();
    }
    let root = dir.path().to_str().unwrap();
    // What the shell's function reads: the completer's stdout, for the word "/" and for
    // the empty word (where subcommands are offered too).
    for (word, index) in [("/", "3"), ("", "3")] {
        let out = common::cgtree()
            .env("COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", index)
            .env("_CLAP_IFS", "\u{b}")
            .args(["--", "cgtree", "--root", root, word])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let values: Vec<&str> = text.split('\u{b}').collect();
        let expect = if word.is_empty() {
            "ok.scope/"
        } else {
            "/ok.scope/"
        };
        assert!(values.contains(&expect), "{values:?}");
        assert!(
            !values.iter().any(|v| v.contains("scope") && *v != expect),
            "{values:?}"
        );
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\u{b}'),
            "{text:?}"
        );
    }
}

/// `-M/--machine NAME`: its values are completed from the identified names (the
/// completer is attached to any `--machine` flag; the names themselves are tested in
/// docs.rs).
#[test]
fn dynamic_bash_completes_machine_names() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(dir.path(), "cgtree.bash", &registration("bash"));
    let kind = fixture("kind-static-pods");
    let Some(got) = bash_dynamic(&script, &["cgtree", "--root", &kind, "-M", "kind-"]) else {
        return;
    };
    assert_eq!(got, ["kind-control-plane", "kind-worker"]);
    assert_eq!(
        bash_dynamic(
            &script,
            &["cgtree", "--root", &kind, "--machine", "kube-system/etcd"]
        )
        .unwrap(),
        ["kube-system/etcd-kind-control-plane"]
    );
}
