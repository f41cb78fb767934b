//! Issue #17: the documents the help texts name are where they say after an install.
//! The Debian package ships docs/*.md as /usr/share/doc/cgtree/docs/ (cgroup-cli's
//! `[package.metadata.deb]` assets), so a help text names that path, never the source
//! tree's relative `docs/...`, and every document it names exists in docs/.
//! (packaging/test-deb.sh checks the same on the installed package.)

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

const INSTALLED: &str = "/usr/share/doc/cgtree/docs/";

/// The help of `cgtree` and of every subcommand (and sub-subcommand) it lists.
fn all_help(words: &mut Vec<String>, out: &mut String) {
    let mut args = words.clone();
    args.push("--help".into());
    let o = common::cgtree().args(&args).output().unwrap();
    assert!(o.status.success(), "cgtree {args:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    out.push_str(&text);
    let subs: Vec<String> = text
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help" && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(str::to_string)
        .collect();
    for s in subs {
        words.push(s);
        all_help(words, out);
        words.pop();
    }
}

#[test]
fn help_texts_name_installed_documents_only() {
    let mut text = String::new();
    all_help(&mut Vec::new(), &mut text);
    // clap wraps long lines: join them back so a path is never cut by a line break.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut named = Vec::new();
    for (i, _) in flat.match_indices("docs/") {
        let start = flat[..i].rfind([' ', '(']).map_or(0, |s| s + 1);
        let end = flat[i..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/._-".contains(c)))
            .map_or(flat.len(), |e| i + e);
        let word = flat[start..end].trim_end_matches('.');
        assert!(
            word.starts_with(INSTALLED),
            "a help text names `{word}`, which is not where the package installs docs/"
        );
        named.push(word.to_string());
    }
    assert!(
        named.iter().any(|n| n.ends_with("/json.md")),
        "no help text names the JSON format: {named:?}"
    );
    let repo = common::repo_root();
    for n in &named {
        let doc = repo.join("docs").join(&n[INSTALLED.len()..]);
        assert!(doc.is_file(), "{n}: no {}", doc.display());
    }
    let manifest = std::fs::read_to_string(repo.join("cgroup-cli/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(r#"["../docs/*.md", "usr/share/doc/cgtree/docs/", "644"]"#),
        "the package does not install docs/*.md in {INSTALLED}"
    );
}
