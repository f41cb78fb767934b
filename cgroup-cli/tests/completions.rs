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
//! - End to end in bash, zsh and fish in tmux ([`Shell`]): hostile cgroup names are
//!   inserted quoted (Enter passes the literal name, runs nothing), typed quoting is
//!   undone before matching, bidi/zero-width names are not offered, zsh's autoloaded
//!   `_cgtree` completes at the first Tab; `--root=DIR`, `~` and quoted roots.
//! - `COMPLETE` must name a known shell; no candidate is dropped; `-M NAME PATH` and
//!   `-u` completion; cgtree(1)'s NAME, EXIT STATUS, ENVIRONMENT and SEE ALSO.
//!
//! Needs bash, zsh, fish, tmux and man-db (with groff): a missing one is a failure under
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

/// What the function that bash's completion `script` (a file: `cgtree completions
/// bash`, or the registration `COMPLETE=bash cgtree` writes) attached to `cgtree`
/// offers for the last of `words`, as bash calls it at a Tab (COMP_WORDS, COMP_CWORD,
/// COMP_LINE, COMP_POINT set; `$2` the word under the cursor: words here have no
/// character of COMP_WORDBREAKS, so that it is readline's text); sorted. The
/// end-to-end checks with bash's own line editor are [`Shell`]'s.
fn bash_reply(script: &str, words: &[&str]) -> Option<Vec<String>> {
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

#[test]
fn bash_completes_subcommands_flags_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(
        dir.path(),
        "cgtree.bash",
        &cgtree_ok(&["completions", "bash"]),
    );
    let Some(got) = bash_reply(&script, &["cgtree", "me"]) else {
        return;
    };
    assert_eq!(got, ["metrics"]);
    assert_eq!(
        bash_reply(&script, &["cgtree", "completions", "z"]).unwrap(),
        ["zsh"]
    );
    assert_eq!(
        bash_reply(&script, &["cgtree", "top", "--order", "m"]).unwrap(),
        ["memory"]
    );
    assert_eq!(
        bash_reply(&script, &["cgtree", "metrics", "--for"]).unwrap(),
        ["--format"]
    );
    // Several candidates: every subcommand starting with "i".
    assert_eq!(
        bash_reply(&script, &["cgtree", "i"]).unwrap(),
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
    let Some(got) = bash_reply(&script, &["cgtree", "--root", &desktop, "/"]) else {
        return;
    };
    assert_eq!(got, ["/init.scope/", "/system.slice/", "/user.slice/"]);
    // Subcommands and flags are still completed.
    assert_eq!(bash_reply(&script, &["cgtree", "me"]).unwrap(), ["metrics"]);
    assert_eq!(
        bash_reply(&script, &["cgtree", "top", "--order", "m"]).unwrap(),
        ["memory"]
    );
    // One level at a time, below the directory typed so far.
    assert_eq!(
        bash_reply(
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
            bash_reply(&script, words).unwrap(),
            ["/system.slice/"],
            "{words:?}"
        );
    }
    // Another --root, other cgroups: the candidates come from the root given.
    let k8s = fixture("k8s-systemd");
    assert_eq!(
        bash_reply(&script, &["cgtree", "--root", &k8s, "/"]).unwrap(),
        ["/init.scope/", "/kubepods.slice/", "/system.slice/"]
    );
    // A path outside the hierarchy offers nothing.
    assert_eq!(
        bash_reply(
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
    let Some(got) = bash_reply(&script, &["cgtree", "--root", &kind, "-M", "kind-"]) else {
        return;
    };
    assert_eq!(got, ["kind-control-plane", "kind-worker"]);
    assert_eq!(
        bash_reply(
            &script,
            &["cgtree", "--root", &kind, "--machine", "kube-system/etcd"]
        )
        .unwrap(),
        ["kube-system/etcd-kind-control-plane"]
    );
}

// ---- End to end: a real shell's line editor in tmux ----

use common::tmux::Tmux;

/// Cgroup names a container or a user may give, each starting with its own letter (so
/// that typing `/` and that letter completes it alone): command substitutions, globs,
/// quotes, separators, a systemd `\x2d` escape, `=` and `:` (readline word breaks), `#`
/// and `~`; and names never to be offered: bidi control, zero-width space, line feed.
const HOSTILE: [&str; 13] = [
    "d$(touch x)",
    "t`touch y`",
    "a b*?[c]",
    "q'uo\"te",
    "s;amp&|<",
    "b\\x2dslash",
    "e=q:c",
    "h#ash!",
    "~tilde",
    "plain.scope",
    "g\u{202e}exe.scope",
    "z\u{200b}w.scope",
    "n\nl.scope",
];

/// A `--root` directory whose cgroup2 mount has one cgroup for each of [`HOSTILE`]
/// (each with a `cgroup.procs`, as the existing fixtures have).
fn hostile_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    fs::create_dir_all(dir.path().join("proc")).unwrap();
    for d in std::iter::once("").chain(HOSTILE) {
        let d = cg.join(d);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("cgroup.procs"), "").unwrap();
    }
    dir
}

/// bash, zsh or fish in tmux with cgtree's completion loaded as a user loads it (bash:
/// `source` of the registration; zsh: the `_cgtree` file in `$fpath`, autoloaded by
/// compinit, as the Debian package installs it; fish: `COMPLETE=fish cgtree | source`),
/// and `cgtree` shadowed by a function that appends its arguments (hex, one line per
/// run) to a file: what Enter would pass to the real program. The completion itself
/// runs this test's binary (by its path). Working directory: a temporary one, where a
/// name that ran would leave its file.
struct Shell {
    tmux: Tmux,
    dir: tempfile::TempDir,
    runs: usize,
}

impl Shell {
    /// `None` when the shell is not installed (a failure under CI=true).
    fn start(shell: &str) -> Option<Shell> {
        run_tool(shell, &["-c", "true"], "", &[])?;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bin = env!("CARGO_BIN_EXE_cgtree");
        let registration = registration(shell);
        // `~` is this directory; `~/fx` the hostile root (see `hostile_cases`).
        let home = format!("HOME={} ", d.display());
        let record = "for a in \"$@\"; do printf '%s' \"$a\" | od -An -v -tx1 | tr -d ' \\n'; printf ' '; done; echo";
        let command = match shell {
            "bash" => {
                file(d, "reg.bash", &registration);
                file(
                    d,
                    "rc",
                    &format!(
                        "PS1='$ '\nsource reg.bash\ncgtree() {{ {{ {record}; }} >> runs; }}\n"
                    ),
                );
                format!(
                    "cd {} && {home}bash --noprofile --rcfile rc -i",
                    d.display()
                )
            }
            "zsh" => {
                fs::create_dir(d.join("fpath")).unwrap();
                file(&d.join("fpath"), "_cgtree", &registration);
                file(
                    d,
                    ".zshrc",
                    &format!(
                        "PS1='%% '\nfpath=({}/fpath $fpath)\nautoload -U compinit\n\
                         compinit -u -D\ncgtree() {{ {{ {record}; }} >> runs; }}\n",
                        d.display()
                    ),
                );
                format!("cd {0} && {home}ZDOTDIR={0} zsh -i", d.display())
            }
            _ => {
                file(
                    d,
                    "rc.fish",
                    &format!(
                        "function fish_prompt; echo '> '; end\n\
                         COMPLETE=fish {bin} | source\n\
                         function cgtree; for a in $argv; printf '%s' $a | od -An -v -tx1 | tr -d ' \\n'; printf ' '; end >> runs; echo >> runs; end\n"
                    ),
                );
                format!(
                    "cd {} && {home}fish --no-config --init-command 'source rc.fish'",
                    d.display()
                )
            }
        };
        let tmux = Tmux::start(&format!("compl-{shell}"), &command);
        let s = Shell { tmux, dir, runs: 0 };
        s.tmux.wait("the prompt", |screen| {
            screen.lines().any(|l| matches!(l.trim(), "$" | "%" | ">"))
        });
        Some(s)
    }

    /// Types `typed`, presses Tab, types `after_tab`, presses Enter; returns the
    /// arguments `cgtree` got (after the program name).
    fn tab_then_run(&mut self, typed: &str, after_tab: &str) -> Vec<Vec<u8>> {
        self.tmux.send(&["-l", typed]);
        // The completion has run when the line shows more than typed, or after a
        // pause when nothing is offered (a guard, not a speed check).
        let before = self.tmux.screen();
        self.tmux.send(&["Tab"]);
        let end = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while self.tmux.screen() == before && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        if !after_tab.is_empty() {
            self.tmux.send(&["-l", after_tab]);
        }
        self.tmux.send(&["Enter"]);
        self.runs += 1;
        let runs = self.dir.path().join("runs");
        let end = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let text = fs::read_to_string(&runs).unwrap_or_default();
            // Whole lines only: a run writes its line piece by piece.
            if text.matches('\n').count() >= self.runs {
                let line = text.lines().nth(self.runs - 1).unwrap();
                return line
                    .split(' ')
                    .filter(|h| !h.is_empty())
                    .map(|h| {
                        (0..h.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                            .collect()
                    })
                    .collect();
            }
            assert!(
                std::time::Instant::now() < end,
                "{typed:?}: cgtree did not run; screen:\n{}",
                self.tmux.screen()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Nothing a name holds ran: no file appeared in the working directory.
    fn nothing_ran(&self) {
        for f in ["x", "y"] {
            assert!(
                !self.dir.path().join(f).exists(),
                "a completed name ran a command; screen:\n{}",
                self.tmux.screen()
            );
        }
    }
}

/// The last argument of a run, as text.
fn last_arg(args: &[Vec<u8>]) -> String {
    String::from_utf8(args.last().cloned().unwrap_or_default()).unwrap()
}

/// Typed (with the quoting a user might use), what is typed after the Tab (a quote
/// zsh leaves open), and the argument cgtree must get: the literal name.
fn hostile_cases(root: &str, shell: &str) -> Vec<(String, &'static str, String)> {
    let r = |w: &str| format!("cgtree --root {root} {w}");
    let mut v = vec![
        (r("/d"), "", "/d$(touch x)/".to_string()),
        (
            format!("cgtree --root={root} /t"),
            "",
            "/t`touch y`/".into(),
        ),
        (r("/a\\ b"), "", "/a b*?[c]/".into()),
        (r("/q"), "", "/q'uo\"te/".into()),
        (r("/s"), "", "/s;amp&|</".into()),
        (r("/b"), "", "/b\\x2dslash/".into()),
        (r("/e"), "", "/e=q:c/".into()),
        (r("/h"), "", "/h#ash!/".into()),
        (r("/\\~"), "", "/~tilde/".into()),
        // Not offered: the word stays as typed.
        (r("/g"), "", "/g".into()),
        (r("/z"), "", "/z".into()),
        (r("/n"), "", "/n".into()),
    ];
    // A word opened with a quote: completed inside it (bash closes the quote after a
    // single candidate; zsh and fish leave it open after a directory: the user closes it).
    let close = |q: &'static str| if shell == "bash" { "" } else { q };
    v.push((r("'/a"), close("'"), "/a b*?[c]/".into()));
    v.push((r("\"/d"), close("\""), "/d$(touch x)/".into()));
    if shell == "bash" {
        v.push((r("$'/q"), "", "/q'uo\"te/".into()));
    }
    v
}

fn hostile_names_are_inserted_quoted(shell: &str) {
    let root = hostile_root();
    let root_s = root.path().to_str().unwrap();
    let Some(mut sh) = Shell::start(shell) else {
        return;
    };
    std::os::unix::fs::symlink(root.path(), sh.dir.path().join("fx")).unwrap();
    let mut cases = hostile_cases(root_s, shell);
    // The root written as `~/...`, quoted, and in its `--root=` form.
    for root_word in [
        "~/fx".to_string(),
        format!("'{root_s}'"),
        format!("\"{root_s}\""),
    ] {
        cases.push((
            format!("cgtree --root {root_word} /p"),
            "",
            "/plain.scope/".into(),
        ));
    }
    cases.push((
        "cgtree --root=~/fx /p".to_string(),
        "",
        "/plain.scope/".into(),
    ));
    for (typed, after, want) in cases {
        let args = sh.tab_then_run(&typed, after);
        assert_eq!(
            last_arg(&args),
            want,
            "{shell}: {typed:?}; screen:\n{}",
            sh.tmux.screen()
        );
        sh.nothing_ran();
    }
    // Subcommands still complete.
    let args = sh.tab_then_run("cgtree me", "");
    assert_eq!(last_arg(&args), "metrics", "{shell}");
}

#[test]
fn bash_inserts_hostile_names_quoted() {
    hostile_names_are_inserted_quoted("bash");
}

#[test]
fn zsh_inserts_hostile_names_quoted_from_the_autoloaded_file_at_the_first_tab() {
    hostile_names_are_inserted_quoted("zsh");
}

#[test]
fn fish_inserts_hostile_names_quoted() {
    hostile_names_are_inserted_quoted("fish");
}

/// `COMPLETE` is acted on for the shells cgtree completes for, named exactly; any other
/// value is a one-line error (the value escaped), status 2, nothing on stdout; unset,
/// empty or `0` is a normal run.
#[test]
fn complete_must_name_a_known_shell() {
    let desktop = fixture("desktop");
    for (value, shown) in [
        ("garbage", "garbage"),
        ("/bin/bash", "/bin/bash"),
        ("bash\u{1b}[2J", "bash\\x1b[2J"),
        ("BASH", "BASH"),
    ] {
        let out = common::cgtree()
            .env("COMPLETE", value)
            .args(["--root", &desktop])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{value:?}");
        assert!(out.stdout.is_empty(), "{value:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with(&format!("cgtree: COMPLETE={shown}: not a shell")),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("bash, zsh, fish"), "{err}");
    }
    let normal = cgtree_ok(&["--root", &desktop]);
    for value in ["", "0"] {
        let out = common::cgtree()
            .env("COMPLETE", value)
            .args(["--root", &desktop])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{value:?}");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), normal, "{value:?}");
    }
}

/// Every matching cgroup is offered, however many (there was a cap of 500 that dropped
/// the rest silently); bash asks before listing many.
#[test]
fn no_candidate_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    let names: Vec<String> = (0..1200).map(|i| format!("pod{i:04}.scope")).collect();
    for d in std::iter::once("").chain(names.iter().map(String::as_str)) {
        fs::create_dir_all(cg.join(d)).unwrap();
        fs::write(cg.join(d).join("cgroup.procs"), "").unwrap();
    }
    let script_dir = tempfile::tempdir().unwrap();
    let script = file(script_dir.path(), "cgtree.bash", &registration("bash"));
    let root = dir.path().to_str().unwrap();
    let Some(got) = bash_reply(&script, &["cgtree", "--root", root, "/pod"]) else {
        return;
    };
    let want: Vec<String> = names.iter().map(|n| format!("/{n}/")).collect();
    assert_eq!(got, want);
}

/// `-M NAME PATH`: PATH is completed below the machine's cgroup; `-u/--unit` and
/// `--user-unit`: unit names (the units of the manager found in the tree: the names
/// themselves are tested in select.rs).
#[test]
fn machine_paths_and_unit_names_are_completed() {
    let dir = tempfile::tempdir().unwrap();
    let script = file(dir.path(), "cgtree.bash", &registration("bash"));
    let kind = fixture("kind-static-pods");
    let Some(got) = bash_reply(
        &script,
        &["cgtree", "--root", &kind, "-M", "kind-worker", "/"],
    ) else {
        return;
    };
    // The kind node's cgroup has one child (its own hierarchy's root is below).
    assert_eq!(got, ["/container/"]);
    // Without -M, the same word lists the host's top level instead.
    assert!(!bash_reply(&script, &["cgtree", "--root", &kind, "/"])
        .unwrap()
        .contains(&"/container/".to_string()));
    let desktop = fixture("desktop");
    for words in [
        &["cgtree", "--root", &desktop, "-u", "snapd"][..],
        &["cgtree", "--root", &desktop, "--unit", "snapd"],
        // `-u` with no value: the CGROUP_PATH arguments are unit names.
        &["cgtree", "--root", &desktop, "-u", "init.scope", "snapd"],
    ] {
        assert_eq!(
            bash_reply(&script, words).unwrap(),
            ["snapd.service"],
            "{words:?}"
        );
    }
    // The system manager's units only: not the user manager's app.slice.
    let all = bash_reply(&script, &["cgtree", "--root", &desktop, "-u", "a"]).unwrap();
    assert!(!all.contains(&"app.slice".to_string()), "{all:?}");
    let mut users = bash_reply(&script, &["cgtree", "--root", &desktop, "-u", "user"]).unwrap();
    // (-u's value is optional: the subcommand `userns` may follow it too.)
    users.retain(|u| u != "userns");
    assert_eq!(
        users,
        ["user-1000.slice", "user.slice", "user@1000.service"]
    );
}

/// The variables cgtree reads (`env::var("X")`, `env::var_os("X")` in its sources, but
/// the completion protocol's own `_CLAP_*`/`_CGTREE_*`, tests' `CGTREE_TEST_*` and
/// `HOME`, which only `~` in a completed word reads), plus the pager's that another
/// change adds (`SYSTEMD_LESSCHARSET`, `SYSTEMD_PAGERSECURE`).
fn variables_read() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs")
                && p.file_name().is_some_and(|f| f != "tests.rs")
            {
                let text = fs::read_to_string(&p).unwrap();
                // Not the unit tests' own.
                let text = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
                for pat in ["env::var(\"", "env::var_os(\""] {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        let name = &rest[..rest.find('"').unwrap()];
                        out.push(name.to_string());
                    }
                }
            }
        }
    }
    let mut names = vec![
        "SYSTEMD_LESSCHARSET".to_string(),
        "SYSTEMD_PAGERSECURE".to_string(),
    ];
    walk(&common::repo_root().join("cgroup-cli/src"), &mut names);
    walk(&common::repo_root().join("cgroup-core/src"), &mut names);
    names.retain(|n| {
        !n.starts_with("_CLAP_")
            && !n.starts_with("_CGTREE_")
            && !n.starts_with("CGTREE_TEST_")
            && n != "HOME"
    });
    names.sort();
    names.dedup();
    names
}

/// cgtree(1): NAME is "cgtree - " and the description (not "cgtree - cgtree: ..."); EXIT STATUS
/// lists 0, 1 and 2; ENVIRONMENT every variable cgtree reads; SEE ALSO the tools it
/// follows, in the order man-pages(7) gives; a subcommand's page points to cgtree(1).
#[test]
fn man_page_has_name_exit_status_environment_and_see_also() {
    let page = cgtree_ok(&["man"]);
    let Some(text) = man_render(&page) else {
        return;
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let name = words.iter().position(|w| *w == "NAME").unwrap();
    // "cgtree - " and the package's description, whose first word is not the name again.
    let description: Vec<&str> = env!("CARGO_PKG_DESCRIPTION").split_whitespace().collect();
    assert_ne!(description[0], "cgtree");
    assert_eq!(&words[name + 1..name + 3], ["cgtree", "-"], "{text}");
    assert_eq!(
        &words[name + 3..name + 3 + description.len()],
        &description[..],
        "{text}"
    );
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with("cgtree"))
        .collect();
    let at = |h: &str| {
        heads
            .iter()
            .position(|x| *x == h)
            .unwrap_or_else(|| panic!("no {h}: {heads:?}"))
    };
    assert!(at("OPTIONS") < at("EXIT STATUS"), "{heads:?}");
    assert!(at("EXIT STATUS") < at("ENVIRONMENT"), "{heads:?}");
    assert_eq!(heads.last(), Some(&"SEE ALSO"), "{heads:?}");
    // A section's text: its lines up to the next heading (a line not indented).
    let section = |h: &str| -> String {
        text.lines()
            .skip_while(|l| *l != h)
            .skip(1)
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let status = section("EXIT STATUS");
    for code in ["0", "1", "2"] {
        assert!(
            status
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "{status}"
        );
    }
    let env = section("ENVIRONMENT");
    for var in variables_read() {
        assert!(
            env.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == var),
            "{var} is read but not in ENVIRONMENT:\n{env}"
        );
    }
    let see_also = section("SEE ALSO");
    for r in [
        "systemd-cgls(1)",
        "systemd-cgtop(1)",
        "systemctl(1)",
        "podman-ps(1)",
        "crictl(1)",
        "cgroups(7)",
    ] {
        assert!(see_also.contains(r), "{r}: {see_also}");
    }
    let top = man_render(&cgtree_ok(&["man", "top"])).unwrap();
    let top_see = &top[top.find("\nSEE ALSO\n").unwrap()..];
    assert!(top_see.contains("cgtree(1)"), "{top_see}");
}

/// elvish and PowerShell (not installed here; PowerShell inserts a candidate as it is):
/// only names without any shell-special character are offered to them.
#[test]
fn elvish_and_powershell_get_plain_names_only() {
    let root = hostile_root();
    let root_s = root.path().to_str().unwrap();
    for shell in ["powershell", "elvish"] {
        let out = common::cgtree()
            .env("COMPLETE", shell)
            .env("_CLAP_COMPLETE_INDEX", "3")
            .args(["--", "cgtree", "--root", root_s, "/"])
            .output()
            .unwrap();
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
        assert_eq!(values, ["/plain.scope/"], "{shell}: {text:?}");
    }
}
