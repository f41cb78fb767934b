//! `cgtree completions SHELL`, `cgtree man [SUBCOMMAND...]` and the completion
//! computed at run time (`COMPLETE=SHELL cgtree`): shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), generated from the flags in
//! [`crate::cli`], so that they cannot drift from what the program parses.
//!
//! Two kinds of completion:
//! - static (`cgtree completions SHELL`): subcommands, flags and the values clap knows
//!   (`--color`, `--order`, `--format`, ...), written once into a script;
//! - dynamic (`COMPLETE=bash cgtree` writes a registration script; the shell then calls
//!   `COMPLETE=bash cgtree -- WORDS...` at each Tab): the same, plus the cgroup paths of
//!   every `CGROUP_PATH` argument ([`cgroup_path_candidates`]), identified container,
//!   pod and kind node names for `-M/--machine` ([`machine_name_candidates`]) and unit
//!   names for `-u/--unit` and `--user-unit` ([`unit_name_candidates`]).
//!   This is clap_complete's `unstable-dynamic` feature (`CompleteEnv`), outside its
//!   stable API: the protocol between the registration script and the binary may change
//!   in any clap_complete release, so the crate is pinned exactly in Cargo.toml and the
//!   script must come from the same build as the binary (the Debian package ships both;
//!   README "Shell completions and the manual page" tells `cargo install` users to
//!   source it anew at shell start, as clap_complete recommends).
//!
//! Candidates read from the host are untrusted: a name that is not UTF-8 or has a
//! character cgtree escapes on a terminal (control, bidi, zero-width: [`offerable`]) is
//! never offered; every other matching one is (no cap). Each is inserted quoted (bash:
//! [`Bash`] and [`crate::shellword`]; zsh and fish quote what they insert), so that Enter
//! passes the literal name; the word typed is unquoted before it is matched. `-M NAME`
//! makes `CGROUP_PATH` relative to the machine's cgroup, `-u`/`--user-unit` makes it a
//! unit name ([`crate::select::unit_names`]), as when cgtree runs.

use crate::cli::Args;
use crate::shellword::Quote;
use crate::term::Diag;
use clap::CommandFactory;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::EnvCompleter;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The program's name in scripts and pages (the binary's name, not `argv[0]`).
const BIN: &str = "cgtree";

/// The value name of the arguments that take a cgroup path (every subcommand's).
const CGROUP_PATH: &str = "CGROUP_PATH";
/// The long name of the flag that takes a container, pod or kind node name.
const MACHINE: &str = "machine";
/// The long names of the flags that take a unit name.
const UNIT_FLAGS: [&str; 2] = ["unit", "user-unit"];

/// The command-line definition as the generators read it: built, with no `help`
/// subcommand (it has no flags and no page of its own; `--help` stays).
fn command() -> clap::Command {
    let mut cmd = unbuilt_command();
    cmd.build();
    cmd
}

/// The definition before [`clap::Command::build`], with the run-time completers
/// attached: [`cgroup_path_candidates`] to every argument whose value name is
/// `CGROUP_PATH`, [`machine_name_candidates`] to `--machine`, in every subcommand.
/// (Attached here rather than in [`crate::cli`], so that any new argument of those
/// names gets them.)
fn unbuilt_command() -> clap::Command {
    attach_completers(Args::command().bin_name(BIN).disable_help_subcommand(true))
}

fn attach_completers(mut cmd: clap::Command) -> clap::Command {
    let mut paths = Vec::new();
    let mut machines = Vec::new();
    let mut units = Vec::new();
    for arg in cmd.get_arguments() {
        if arg
            .get_value_names()
            .is_some_and(|names| names.iter().any(|n| n.as_str() == CGROUP_PATH))
        {
            paths.push(arg.get_id().clone());
        } else if arg.get_long() == Some(MACHINE) {
            machines.push(arg.get_id().clone());
        } else if arg.get_long().is_some_and(|l| UNIT_FLAGS.contains(&l)) {
            units.push(arg.get_id().clone());
        }
    }
    for id in paths {
        cmd = cmd.mut_arg(id, |a| {
            a.add(ArgValueCompleter::new(cgroup_path_candidates))
        });
    }
    for id in machines {
        cmd = cmd.mut_arg(id, |a| {
            a.add(ArgValueCompleter::new(machine_name_candidates))
        });
    }
    for id in units {
        cmd = cmd.mut_arg(id, |a| a.add(ArgValueCompleter::new(unit_name_candidates)));
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, attach_completers);
    }
    cmd
}

/// The shells whose `COMPLETE=SHELL` cgtree answers: its own adapters for bash, zsh and
/// fish ([`Bash`], [`Zsh`], [`Fish`]), clap_complete's for elvish and PowerShell
/// ([`Recorded`]).
const SHELLS: [&dyn EnvCompleter; 5] = [
    &Bash,
    &Zsh,
    &Fish,
    &Recorded(clap_complete::env::Elvish),
    &Recorded(clap_complete::env::Powershell),
];

/// The names `COMPLETE` may hold (what each adapter's `is` accepts).
const SHELL_NAMES: [&str; 7] = [
    "bash",
    "zsh",
    "fish",
    "elvish",
    "powershell",
    "pwsh",
    "powershell_ise",
];

/// Answers a shell's completion request and exits, when the environment asks for one
/// (`COMPLETE=bash|zsh|fish|elvish|powershell`); otherwise returns at once. Called
/// first thing in `main`, before anything is written.
///
/// `COMPLETE=SHELL cgtree` writes the registration script for SHELL (it calls the
/// program by the name it was started with: `cgtree` from `$PATH`, or the path given);
/// `COMPLETE=SHELL cgtree -- WORDS...` writes the candidates for the last word (bash:
/// for the line in `_CGTREE_LINE`, see [`Bash`]).
///
/// `COMPLETE` unset, empty or `0` is a normal run (as clap_complete has it). Any other
/// value must be one of [`SHELL_NAMES`] exactly (clap_complete would also take a path
/// such as `/bin/bash` and say less about a wrong one): else a one-line error naming the
/// value (escaped) and the shells there are, and exit status 2, before anything else.
///
/// Returns the exit status for `main` to exit with when `COMPLETE` is wrong.
pub fn complete_from_env(diag: &mut Diag) -> Option<u8> {
    let value = std::env::var_os("COMPLETE")?;
    if value.is_empty() || value == "0" {
        return None;
    }
    if !SHELL_NAMES.iter().any(|n| value == *n) {
        use std::os::unix::ffi::OsStrExt;
        diag.error(format_args!(
            "COMPLETE={}: not a shell cgtree completes for; COMPLETE is the shell's name \
             when it asks for completions (one of: {}), or unset for a normal run",
            crate::sanitize::sanitize(value.as_bytes()),
            SHELL_NAMES.join(", ")
        ));
        return Some(crate::FATAL);
    }
    let shells = SHELLS;
    clap_complete::CompleteEnv::with_factory(unbuilt_command)
        .bin(BIN)
        .shells(clap_complete::env::Shells(&shells))
        .complete();
    None
}

/// The words of the command line being completed, unquoted, the last being the one
/// under the cursor; set by the shell's adapter before clap's engine asks the
/// completers (empty when this process was not started to complete).
static WORDS: std::sync::OnceLock<Vec<OsString>> = std::sync::OnceLock::new();

/// Set for the shells whose insertion of candidates is not tested (elvish, PowerShell):
/// only [`plain_name`]s are offered.
static PLAIN_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether `name` has only characters no shell gives a meaning to: ASCII letters and
/// digits, `_ . / @ % + , -`, and non-ASCII ones (`=`: an assignment in older elvish).
fn plain_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || !c.is_ascii() || "_./@%+,-".contains(c))
}

fn completion_words() -> Vec<OsString> {
    WORDS.get().cloned().unwrap_or_default()
}

/// bash: the registration is cgtree's own, not clap_complete's. clap_complete's inserts
/// the candidates as they are (a cgroup named `$(touch x)` would run on Enter), lets
/// `COMPREPLY=( $(...) )` glob them, and matches the word as typed (`/a\ b`). Here the
/// function passes the line up to the cursor (`_CGTREE_LINE`) and readline's text (`$2`,
/// `_CGTREE_TEXT`); cgtree reads the line as bash does ([`crate::shellword::lex`]),
/// completes the unquoted words, and writes each candidate quoted for where readline
/// puts it ([`crate::shellword::quote`]), each followed by U+000B (never in a
/// candidate: control characters are refused, [`offerable`]). `read -r` takes them as
/// they are; no expansion happens on them.
struct Bash;

const BASH_REGISTRATION: &str = r#"
_cgtree_complete() {
    local c
    COMPREPLY=()
    while IFS= read -r -d $'\013' c; do
        COMPREPLY+=("$c")
    done < <(_CGTREE_LINE="${COMP_LINE:0:COMP_POINT}" _CGTREE_TEXT="$2" COMPLETE=bash COMPLETER -- "$1" 2>/dev/null)
    # One candidate that is not a directory to go on into: a space after it.
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != *[/=] ]]; then
        compopt +o nospace 2>/dev/null
    fi
    return 0
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -o nospace -o nosort -F _cgtree_complete BIN
else
    complete -o nospace -F _cgtree_complete BIN
fi
"#;

/// A registration script: `template` with `COMPLETER` (the completer command, quoted
/// for that shell) and `BIN` (the command completed) filled in.
fn registration(
    template: &str,
    completer: &str,
    bin: &str,
    buf: &mut dyn Write,
) -> std::io::Result<()> {
    let script = template.replace("COMPLETER", completer).replace("BIN", bin);
    buf.write_all(script.as_bytes())
}

impl EnvCompleter for Bash {
    fn name(&self) -> &'static str {
        "bash"
    }
    fn is(&self, name: &str) -> bool {
        name == "bash"
    }
    fn write_registration(
        &self,
        _var: &str,
        _name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        let completer = crate::shellword::quote(completer.as_bytes(), Quote::None);
        registration(
            BASH_REGISTRATION,
            &String::from_utf8_lossy(&completer),
            bin,
            buf,
        )
    }
    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        // Without `_CGTREE_LINE` (called by hand): the words given, unquoted already.
        let (words, before, quote) = match std::env::var_os("_CGTREE_LINE") {
            Some(line) => {
                let line = line.into_vec();
                let text = std::env::var_os("_CGTREE_TEXT")
                    .map(OsStringExt::into_vec)
                    .unwrap_or_default();
                let start = if line.ends_with(&text) {
                    line.len() - text.len()
                } else {
                    line.len()
                };
                let home = std::env::var_os("HOME");
                let l = crate::shellword::lex(&line, start, home.as_ref().map(|h| h.as_bytes()));
                (l.words, l.before_text, l.quote)
            }
            None => (args, Vec::new(), Quote::None),
        };
        if words.is_empty() {
            return Ok(());
        }
        let _ = WORDS.set(words.clone());
        let index = words.len() - 1;
        let found = clap_complete::engine::complete(cmd, words, index, current_dir)?;
        // Each replaces readline's text: what follows `before` in it.
        // (Without duplicates: an optional value, `-u [UNIT]`, is completed both as the
        // flag's value and as the positional argument.)
        let mut rests: Vec<&[u8]> = Vec::new();
        for c in &found {
            if let Some(rest) = c.get_value().as_bytes().strip_prefix(before.as_slice()) {
                if !rests.contains(&rest) {
                    rests.push(rest);
                }
            }
        }
        // (readline closes an open quote after a single candidate itself.)
        for rest in rests {
            buf.write_all(&crate::shellword::quote(rest, quote))?;
            buf.write_all(b"\x0b")?;
        }
        Ok(())
    }
}

/// zsh: clap_complete's registration, with two changes. The words are passed unquoted
/// (`${(Q)words[@]}`: zsh's `words` holds them as typed; the current one is `PREFIX`,
/// which is without the quote the word opens with), and the file both defines and
/// runs the completion function: installed as `_cgtree` in `$fpath` (the Debian
/// package's vendor-completions), compinit autoloads it on the first Tab, and the
/// autoloaded body must then complete at once, not only define the function (which
/// would need a second Tab); sourced, it registers the function with `compdef`. (The
/// same test of `$funcstack[1]` as clap_complete's static zsh script.) The candidates
/// go through zsh's `_describe`, whose `compadd` quotes them as it inserts them.
struct Zsh;

const ZSH_REGISTRATION: &str = r#"#compdef BIN
_cgtree() {
    local -a completions dirs other args
    local completion value
    # The words unquoted; the current one up to the cursor, without the quote that
    # opens it (zsh keeps that in compstate[quote], not in PREFIX).
    args=("${(@Q)words[1,CURRENT-1]}" "${(Q)PREFIX}")
    completions=("${(@f)$( \
        _CLAP_IFS=$'\n' \
        _CLAP_COMPLETE_INDEX=$(( CURRENT - 1 )) \
        COMPLETE=zsh \
        COMPLETER -- "${args[@]}" 2>/dev/null \
    )}")
    [[ -n $completions ]] || return 1
    for completion in $completions; do
        value="${completion%%:*}"
        if [[ "$value" == */ ]]; then
            if [[ "$completion" == *:* ]]; then
                dirs+=("${value%/}:${completion#*:}")
            else
                dirs+=("${value%/}")
            fi
        else
            other+=("$completion")
        fi
    done
    [[ -n $dirs ]] && _describe -V 'values' dirs -S '/' -r '/'
    [[ -n $other ]] && _describe -V 'values' other
    return 0
}
if [[ "${funcstack[1]}" == _cgtree ]]; then
    _cgtree "$@"
else
    compdef _cgtree BIN
fi
"#;

impl EnvCompleter for Zsh {
    fn name(&self) -> &'static str {
        "zsh"
    }
    fn is(&self, name: &str) -> bool {
        name == "zsh"
    }
    fn write_registration(
        &self,
        _var: &str,
        _name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        let completer = crate::shellword::quote(completer.as_bytes(), Quote::None);
        registration(
            ZSH_REGISTRATION,
            &String::from_utf8_lossy(&completer),
            bin,
            buf,
        )
    }
    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        // As clap_complete's adapter: an empty current word may be missing.
        let index: usize = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let mut words = args.clone();
        if words.len() == index {
            words.push(OsString::new());
        }
        let _ = WORDS.set(words.into_iter().map(expand_tilde).collect());
        clap_complete::env::Zsh.write_complete(cmd, args, current_dir, buf)
    }
}

/// fish: clap_complete's protocol, with the current token unquoted (`string unescape`;
/// clap_complete's registration passes it as typed, so `/a\ b` matched nothing); the
/// earlier ones fish unquotes itself (`commandline --tokenize`). fish escapes each
/// candidate as it inserts it (tested in tests/completions.rs).
struct Fish;

const FISH_REGISTRATION: &str = r#"function __cgtree_complete
    set -l cur (commandline --current-token --cut-at-cursor | string unescape)
    or set cur (commandline --current-token --cut-at-cursor)
    COMPLETE=fish COMPLETER -- (commandline --current-process --tokenize --cut-at-cursor) "$cur"
end
complete --keep-order --exclusive --command BIN --arguments "(__cgtree_complete)"
"#;

impl EnvCompleter for Fish {
    fn name(&self) -> &'static str {
        "fish"
    }
    fn is(&self, name: &str) -> bool {
        name == "fish"
    }
    fn write_registration(
        &self,
        _var: &str,
        _name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        // fish's single quotes: only `\` and `'` are special inside.
        let quoted = format!("'{}'", completer.replace('\\', "\\\\").replace('\'', "\\'"));
        registration(FISH_REGISTRATION, &quoted, bin, buf)
    }
    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        let _ = WORDS.set(args.iter().cloned().map(expand_tilde).collect());
        clap_complete::env::Fish.write_complete(cmd, args, current_dir, buf)
    }
}

/// A word zsh or fish passed unquoted, with a leading `~` (alone or before `/`, also
/// after `--FLAG=`) as `$HOME`, as the shell expands it when the line runs (bash's words
/// are expanded by [`crate::shellword::lex`], which knows whether the `~` was quoted;
/// here a quoted one is expanded too: it only changes where completion looks).
fn expand_tilde(word: OsString) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let Some(home) = std::env::var_os("HOME") else {
        return word;
    };
    let w = word.as_bytes();
    let at = match w.iter().position(|&b| b == b'=') {
        Some(eq) if w.starts_with(b"--") && w.get(eq + 1) == Some(&b'~') => eq + 1,
        _ if w.first() == Some(&b'~') => 0,
        _ => return word,
    };
    if !matches!(w.get(at + 1), None | Some(b'/')) {
        return word; // ~user: not expanded
    }
    let mut out = w[..at].to_vec();
    out.extend_from_slice(home.as_bytes());
    out.extend_from_slice(&w[at + 1..]);
    OsString::from_vec(out)
}

/// elvish, PowerShell: clap_complete's adapter, the words recorded for the completers
/// first. Neither is installed where cgtree is tested, and PowerShell inserts a
/// candidate's text as it is (`$(...)` there is a subexpression): for these two, names
/// with any character outside [`plain_name`] are not offered ([`PLAIN_ONLY`]).
struct Recorded<T>(T);

impl<T: EnvCompleter> EnvCompleter for Recorded<T> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn is(&self, name: &str) -> bool {
        self.0.is(name)
    }
    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.0.write_registration(var, name, bin, completer, buf)
    }
    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        let _ = WORDS.set(args.clone());
        let _ = PLAIN_ONLY.set(true);
        self.0.write_complete(cmd, args, current_dir, buf)
    }
}

/// The value of the last `--LONG VALUE`, `--LONG=VALUE`, `-S VALUE` or `-SVALUE` (`S`
/// the short name, if any) before the word being completed (an argument clap has not
/// parsed yet: a completer sees only its own word, so the words are read again; they
/// are unquoted already, see [`WORDS`]).
fn flag_value(words: &[OsString], short: Option<u8>, long: &str) -> Option<OsString> {
    use std::os::unix::ffi::OsStrExt;
    // The last word is the one being completed.
    let before = &words[..words.len().saturating_sub(1)];
    let long_flag = format!("--{long}");
    let long_eq = format!("--{long}=");
    let mut value = None;
    let mut i = 0;
    while i < before.len() {
        let w = before[i].as_bytes();
        if w == b"--" {
            break; // after it, everything is a positional argument
        }
        let short_flag = short.map(|c| [b'-', c]);
        if w == long_flag.as_bytes() || short_flag.is_some_and(|f| w == f) {
            if let Some(v) = before.get(i + 1) {
                value = Some(v.clone());
                i += 1;
            }
        } else if let Some(v) = w.strip_prefix(long_eq.as_bytes()) {
            value = Some(OsStr::from_bytes(v).to_owned());
        } else if let Some(v) = short_flag.and_then(|f| w.strip_prefix(&f[..])) {
            value = Some(OsStr::from_bytes(v).to_owned());
        }
        i += 1;
    }
    value
}

/// The value of the last `--root DIR` or `--root=DIR` before the word being completed.
fn root_from_words(words: &[OsString]) -> Option<PathBuf> {
    flag_value(words, None, "root").map(PathBuf::from)
}

/// Which units `-u/--unit` or `--user-unit` before the word being completed asks for
/// (`Some(true)`: the user manager's); `None` when neither is there.
fn unit_flag(words: &[OsString]) -> Option<bool> {
    use std::os::unix::ffi::OsStrExt;
    let before = &words[..words.len().saturating_sub(1)];
    let mut found = None;
    for w in before {
        let w = w.as_bytes();
        if w == b"--" {
            break;
        }
        if w == b"-u" || w == b"--unit" || w.starts_with(b"--unit=") {
            found = Some(false);
        } else if w == b"--user-unit" || w.starts_with(b"--user-unit=") {
            found = Some(true);
        }
    }
    found
}

/// The host the command line being completed reads: its `--root`, else `/`.
fn completion_host() -> cgroup_core::Host {
    match root_from_words(&completion_words()) {
        Some(root) => cgroup_core::Host::with_root(root),
        None => cgroup_core::Host::new(),
    }
}

/// Whether `name` may be offered to a shell: UTF-8 without any character that cgtree
/// escapes on a terminal ([`crate::sanitize::must_escape`]): no control character (a
/// line feed, an escape, bash's separator U+000B would reach the line editor), no bidi
/// control (U+202E, U+2066-U+2069), zero-width or other invisible character (U+200B-U+200F,
/// U+FEFF, ...), which would make a candidate look like another name. Such a cgroup is
/// left out (it is still reachable by typing its name, and shown escaped by the tree).
fn offerable(name: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(name).ok()?;
    let plain_ok = !PLAIN_ONLY.get().copied().unwrap_or(false) || plain_name(s);
    (!s.is_empty() && !s.chars().any(crate::sanitize::must_escape) && plain_ok).then_some(s)
}

/// Candidates for a `CGROUP_PATH` argument: the cgroups whose path starts with
/// `current`, as `current` is written (leading `/` or not), each ending in `/` so
/// that the next Tab goes on below it. Reads one directory: the parent named by
/// `current` (`/system.slice/fo` lists `/system.slice`), below the cgroup2 mount of
/// the command line's `--root` (else of `/`), opened as `cgtree` opens cgroups
/// (beneath the root, no symlink followed). After `-M NAME`, below that machine's
/// cgroup ([`machine_paths`]); after `-u`/`--unit`/`--user-unit`, unit names instead
/// ([`unit_candidates`]), as cgtree reads its arguments then.
///
/// Names that are not [`offerable`] are left out; all others, in name order. Nothing
/// when the mount or the directory cannot be read, or when `current` has a `.` or `..`
/// component.
pub fn cgroup_path_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = completion_words();
    let host = completion_host();
    if let Some(user) = unit_flag(&words) {
        return unit_candidates(host.root(), user, current);
    }
    match flag_value(&words, Some(b'M'), MACHINE) {
        Some(name) => machine_paths(&host, &name, current),
        None => cgroup_paths_below(&host, b"", current),
    }
}

/// The whole tree of the host rooted at `root`, identified, as `-M` and `-u` read it.
fn whole_tree(root: &Path) -> Option<cgroup_core::Tree> {
    cgroup_core::TreeBuilder::new()
        .host_root(root)
        .identify(true)
        .include_empty(true)
        .max_depth(None)
        .build()
        .ok()
}

/// With `-M NAME`: the paths below the machine's cgroup (as `cgtree -M NAME PATH`
/// reads PATH: relative to it, [`crate::select::find_machine`]); nothing when NAME
/// names no single machine.
fn machine_paths(
    host: &cgroup_core::Host,
    name: &OsStr,
    current: &OsStr,
) -> Vec<CompletionCandidate> {
    let Some(name) = name.to_str() else {
        return Vec::new();
    };
    let Some(tree) = whole_tree(host.root()) else {
        return Vec::new();
    };
    let Ok(id) = crate::select::find_machine(&tree, name) else {
        return Vec::new();
    };
    cgroup_paths_below(host, &tree.path(id), current)
}

/// With `-u/--unit` or `--user-unit` (`user`): the names of the units of that manager
/// in the tree that start with `current` ([`crate::select::unit_names`]).
fn unit_candidates(root: &Path, user: bool, current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(tree) = whole_tree(root) else {
        return Vec::new();
    };
    let manager = if user {
        match crate::select::find_user_manager(&tree, nix::unistd::getuid().as_raw()) {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        }
    } else {
        0
    };
    let current = current.to_string_lossy();
    crate::select::unit_names(&tree, manager)
        .into_iter()
        .filter(|n| n.starts_with(&*current) && offerable(n.as_bytes()).is_some())
        .map(CompletionCandidate::new)
        .collect()
}

/// Candidates for `-u/--unit UNIT` and `--user-unit UNIT`.
pub fn unit_name_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = completion_words();
    let user = unit_flag(&words).unwrap_or(false);
    unit_candidates(completion_host().root(), user, current)
}

/// [`cgroup_path_candidates`] on `host`, below the cgroup at `base` (a path from the
/// mount, `/`-separated; empty: the mount).
fn cgroup_paths_below(
    host: &cgroup_core::Host,
    base: &[u8],
    current: &OsStr,
) -> Vec<CompletionCandidate> {
    use std::os::unix::ffi::OsStrExt;
    let current = current.as_bytes();
    let (parent, prefix) = match memchr_last_slash(current) {
        Some(i) => current.split_at(i + 1),
        None => (&b""[..], current),
    };
    let mut rel = PathBuf::from(OsStr::from_bytes(base.strip_prefix(b"/").unwrap_or(base)));
    rel.push(OsStr::from_bytes(
        parent.strip_prefix(b"/").unwrap_or(parent),
    ));
    let Ok(mount) = host.find_cgroup2() else {
        return Vec::new();
    };
    // `..` lists nothing; one directory read, never leaving a `--root`.
    let Ok(names) = host.child_cgroups(&mount, &rel) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|n| n.starts_with(prefix))
        .filter_map(|n| offerable(n))
        .map(|n| {
            let mut value = OsString::from(OsStr::from_bytes(parent));
            value.push(n);
            value.push("/");
            CompletionCandidate::new(value)
        })
        .collect()
}

fn memchr_last_slash(s: &[u8]) -> Option<usize> {
    s.iter().rposition(|&b| b == b'/')
}

/// Candidates for `-M/--machine`: the names of what cgtree identifies on the host of
/// the command line's `--root` (else `/`) and that start with `current`: containers
/// (podman, docker, containerd, LXC, machined machines, podman pods) by name, Kubernetes
/// pods as `NAMESPACE/NAME` and `NAME`, Kubernetes nodes in containers (kind,
/// minikube) by node name. Builds the tree once (as `cgtree` does, identification on).
///
/// Names that are not [`offerable`] are left out; sorted, without duplicates. Nothing
/// when the hierarchy cannot be read.
pub fn machine_name_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let host = completion_host();
    machine_names(host.root(), current)
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// The names [`machine_name_candidates`] offers for the host rooted at `root`.
fn machine_names(root: &Path, current: &OsStr) -> Vec<String> {
    use cgroup_core::runtime::IdentityKind as K;
    let Ok(tree) = cgroup_core::TreeBuilder::new()
        .host_root(root)
        .identify(true)
        .include_empty(true)
        .build()
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for node in tree.nodes() {
        let Some(id) = &node.identity else { continue };
        match id.kind {
            K::PodmanContainer
            | K::DockerContainer
            | K::Container
            | K::ContainerdContainer
            | K::LxcContainer
            | K::Machine
            | K::PodmanPod => names.extend(id.name.clone()),
            K::KubePod => {
                if let Some(pod) = &id.pod {
                    if let Some(name) = &pod.name {
                        if let Some(ns) = &pod.namespace {
                            names.push(format!("{ns}/{name}"));
                        }
                        names.push(name.clone());
                    }
                }
            }
            _ => {}
        }
        if let Some(node_ref) = &id.node {
            names.push(node_ref.name.clone());
        }
        if let Some(kind) = &id.kind_node {
            names.push(kind.name.clone());
        }
    }
    let current = current.to_string_lossy();
    names.retain(|n| n.starts_with(&*current) && offerable(n.as_bytes()).is_some());
    names.sort();
    names.dedup();
    names
}

/// Writes the completion script for `shell` on stdout.
///
/// # Errors
///
/// None of its own: a failure to write stdout is reported on `diag` and gives
/// [`crate::FATAL`] (a reader gone away: [`crate::OK`]), as every output.
pub fn completions(shell: clap_complete::Shell, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN, &mut script);
    Ok(write_out(&script, diag))
}

/// Writes the manual page of `path` (empty: cgtree(1); `["provision", "apply"]`:
/// cgtree-provision-apply(1)) in roff on stdout.
///
/// # Errors
///
/// `path` does not name a subcommand (the message lists those there are); a failure to
/// write stdout is reported as in [`completions`].
pub fn man(path: &[String], diag: &mut Diag) -> anyhow::Result<u8> {
    let mut cmd = command();
    for (i, name) in path.iter().enumerate() {
        let Some(sub) = cmd.find_subcommand(name) else {
            let names: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
            let above = path[..i].join(" ");
            anyhow::bail!(
                "man: no subcommand \"{}\"{}{}; there are: {}",
                crate::sanitize::sanitize(name.as_bytes()),
                if above.is_empty() { "" } else { " in " },
                crate::sanitize::sanitize(above.as_bytes()),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        };
        cmd = sub.clone();
    }
    let top = path.is_empty();
    if top {
        // NAME reads "cgtree - ABOUT": an about that starts with the name
        // ("cgtree: the cgroup v2 hierarchy...") would read "cgtree - cgtree: ...".
        let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
        let prefix = format!("{BIN}: ");
        if let Some(rest) = about.strip_prefix(&prefix) {
            cmd = cmd.about(rest.to_string());
        }
    }
    let mut page = Vec::new();
    // A subcommand has no version of its own: every page names the release.
    clap_mangen::Man::new(cmd)
        .source(concat!("cgtree ", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    let page = with_sections(&String::from_utf8_lossy(&page), top);
    Ok(write_out(page.as_bytes(), diag))
}

/// EXIT STATUS (the codes of [`crate::OK`], [`crate::PARTIAL`], [`crate::FATAL`]) and
/// ENVIRONMENT (every variable cgtree reads: tests/completions.rs checks the list
/// against the source), in roff: sections clap_mangen has no place for.
const MAN_STATUS_AND_ENVIRONMENT: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Everything was read (and written).
.TP
\fB1\fR
Printed, but some files could not be read or parsed, or /proc hides some of the listed
processes (hidepid); each is listed on standard error with its path.
\fBcgtree provision apply\fR: a step failed.
.TP
\fB2\fR
Nothing useful could be done: bad arguments, no cgroup2 mount, an unusable start cgroup,
output that could not be written (said with its cause on standard error), or
\fBCOMPLETE\fR set to a value that names no shell.
.PP
A reader that goes away (\fBcgtree | head\fR) ends the output quietly with the status of
what was read; a closed or failing standard error never changes the status.
.SH ENVIRONMENT
.TP
\fBCOMPLETE\fR
Set by the shell's completion script to the shell's name (\fBbash\fR, \fBzsh\fR,
\fBfish\fR, \fBelvish\fR, \fBpowershell\fR): cgtree then writes that shell's
registration script, or the candidates for the word being completed, and exits.
Unset, empty or \fB0\fR: a normal run; any other value is an error (status 2).
.TP
\fBCGTREE_STATS\fR
\fB1\fR: at the end, counters on standard error (cgroups and processes that vanished
while read, interrupted reads, passes over /proc, trees read through the BPF
iterators).
.TP
\fBCGTREE_BPF\fR
For a cgtree built with the \fBbpf\fR feature: \fB0\fR reads the tree from the files;
\fB1\fR reads it through the BPF iterators wherever they load (root or CAP_BPF and
CAP_PERFMON, with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, kernel BTF, Linux 6.2 or later,
the initial PID and cgroup namespaces, no hidepid for a non-root reader); unset, the iterators are used on hierarchies of 1,000
cgroups or more. \fBCGTREE_STATS=1\fR then also prints the BPF load and walk times,
or why the iterators were not used when they were asked for.
.TP
\fBNO_COLOR\fR
Set and not empty: no colour (unless \fB\-\-color=always\fR).
.TP
\fBTERM\fR
Unset or \fBdumb\fR: no colour (unless \fB\-\-color=always\fR); unset, empty or
\fBdumb\fR: no pager.
.TP
\fBCOLUMNS\fR
A positive number: the width lines are cut to, on a terminal or not (else the
terminal's width; no cut with \fB\-\-full\fR or \fB\-\-json\fR).
.TP
\fBSYSTEMD_PAGER\fR, \fBPAGER\fR
The pager on a terminal (the first set wins, split at blanks; empty or \fBcat\fR: none),
used only when \fBSYSTEMD_PAGERSECURE\fR is set too, as systemd's tools; otherwise
\fBpager\fR, \fBless\fR, \fBmore\fR (in secure mode \fBless\fR only), the first that can
run, else no pager.
.TP
\fBSYSTEMD_LESS\fR
\fBLESS\fR for the pager (default \fBFRSXMK\fR), as systemd's tools.
.TP
\fBSYSTEMD_LESSCHARSET\fR
\fBLESSCHARSET\fR for the pager (default \fButf\-8\fR: cgtree writes UTF-8).
.TP
\fBSYSTEMD_PAGERSECURE\fR
A boolean: the pager's secure mode (\fBLESSSECURE=1\fR: no shell commands, no files
opened from the pager), as systemd's tools. Unset: secure unless the effective user
owns the login session cgtree runs in and \fBSUDO_UID\fR is unset.
.TP
\fBSUDO_UID\fR
Set while \fBSYSTEMD_PAGERSECURE\fR is unset: the pager runs in secure mode.
.TP
\fBPATH\fR
Where the pager is looked up, as \fBexecvp\fR(3) does.
.TP
\fBSUDO_USER\fR
\fBcgtree provision\fR on the live host: the user it sets up when \fB\-\-user\fR is
not given.
"#;

/// The pages cgtree's point back to (cgtree(1) first on a subcommand's page).
const MAN_SEE_ALSO: &str = r#".SH "SEE ALSO"
\fB\%systemd\-cgls\fR(1), \fB\%systemd\-cgtop\fR(1), \fBsystemctl\fR(1),
\fB\%podman\-ps\fR(1), \fBcrictl\fR(1), \fBcgroups\fR(7)
"#;

/// `page` (clap_mangen's) with EXIT STATUS and ENVIRONMENT (on cgtree(1), `top`) before
/// its VERSION section (else at the end), and SEE ALSO last, as man-pages(7) orders
/// them.
fn with_sections(page: &str, top: bool) -> String {
    let mut out = page.to_string();
    if top {
        match out.find("\n.SH VERSION\n") {
            Some(i) => out.insert_str(i + 1, MAN_STATUS_AND_ENVIRONMENT),
            None => out.push_str(MAN_STATUS_AND_ENVIRONMENT),
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if top {
        out.push_str(MAN_SEE_ALSO);
    } else {
        out.push_str(&MAN_SEE_ALSO.replacen(
            ".SH \"SEE ALSO\"\n",
            ".SH \"SEE ALSO\"\n\\fBcgtree\\fR(1), ",
            1,
        ));
    }
    out
}

/// Writes generated text (the program's own, never read from the host) on stdout
/// through the escaping writer, which passes it unchanged: the generators write no
/// control character but the line feed (tests check that the script parses in its
/// shell and the page renders).
fn write_out(text: &[u8], diag: &mut Diag) -> u8 {
    let mut out = crate::term::stdout(false);
    let r = out.write_all(text).and_then(|()| out.flush());
    crate::finish(r, crate::OK, diag)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(name)
    }

    #[test]
    fn machine_names_are_containers_pods_and_nodes() {
        assert_eq!(
            machine_names(&fixture("docker"), OsStr::new("")),
            ["bob-web", "cache-redis"]
        );
        assert_eq!(
            machine_names(&fixture("lxc"), OsStr::new("")),
            ["alpine1", "web"]
        );
        assert_eq!(
            machine_names(&fixture("nspawn"), OsStr::new("")),
            ["deb1", "my-box", "qemu-1-vm1"]
        );
        // Pods by NAMESPACE/NAME and NAME; kind nodes by node name; filtered by prefix.
        let kind = fixture("kind-static-pods");
        assert_eq!(
            machine_names(&kind, OsStr::new("kind-")),
            ["kind-control-plane", "kind-worker"]
        );
        assert_eq!(
            machine_names(&kind, OsStr::new("kube-system/etcd")),
            ["kube-system/etcd-kind-control-plane"]
        );
        assert_eq!(
            machine_names(&kind, OsStr::new("etcd")),
            ["etcd-kind-control-plane"]
        );
        // No hierarchy: nothing, no error.
        assert!(machine_names(Path::new("/nonexistent"), OsStr::new("")).is_empty());
    }

    #[test]
    fn root_is_read_from_the_words_before_the_current_one() {
        let w = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            root_from_words(&w(&["cgtree", "--root", "a", "top", "/"])),
            Some(PathBuf::from("a"))
        );
        assert_eq!(
            root_from_words(&w(&["cgtree", "--root=b", "--root", "c", ""])),
            Some(PathBuf::from("c"))
        );
        // The word being completed is not a value yet; after `--`, no flags.
        assert_eq!(root_from_words(&w(&["cgtree", "--root"])), None);
        assert_eq!(
            root_from_words(&w(&["cgtree", "--", "--root", "x", ""])),
            None
        );
        assert_eq!(root_from_words(&[]), None);
    }

    #[test]
    fn cgroup_paths_list_one_directory_and_skip_control_characters() {
        let host = cgroup_core::Host::with_root(fixture("desktop"));
        let values = |cur: &str| -> Vec<String> {
            cgroup_paths_below(&host, b"", OsStr::new(cur))
                .iter()
                .map(|c| c.get_value().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            values("/"),
            ["/init.scope/", "/system.slice/", "/user.slice/"]
        );
        assert_eq!(values("/user.slice/u"), ["/user.slice/user-1000.slice/"]);
        assert_eq!(values("us"), ["user.slice/"]);
        assert!(values("/user.slice/../").is_empty());
        assert!(values("/nope/").is_empty());
        assert_eq!(offerable(b"ok.scope"), Some("ok.scope"));
        for bad in [&b"a\x1b[2J"[..], b"a\nb", b"a\x0bb", b"\xff", b""] {
            assert_eq!(offerable(bad), None, "{bad:?}");
        }
        // Bidi controls, zero-width and other invisible characters: a candidate must
        // not look like another name.
        for bad in [
            "gpj\u{202e}exe.scope",
            "a\u{2066}b\u{2069}",
            "zero\u{200b}width",
            "j\u{200d}oin",
            "lrm\u{200e}",
            "bom\u{feff}",
            "sep\u{2028}",
            "c1\u{9b}",
        ] {
            assert_eq!(offerable(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(offerable("日本.scope".as_bytes()), Some("日本.scope"));
        // What elvish and PowerShell are offered (PLAIN_ONLY).
        assert!(plain_name("user@1000.service") && plain_name("kube-system/etcd-x"));
        for bad in ["$(x)", "a b", "`x`", "a;b", "a'b", "a\\x2d", "a*", "a&b"] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
