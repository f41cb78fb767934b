//! Format-preserving edits of configuration files, key by key: INI-style files (systemd
//! units and drop-ins, `wsl.conf`, `.wslconfig`), TOML (`containers.conf`, through
//! `toml_edit`), and single lines (`fstab`). Every byte not part of the edited key is
//! kept: comments, blank lines, other keys, their order and spelling.

/// Where a key stands in an INI file.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniHit {
    /// 1-based line number.
    pub line: usize,
    /// The value, trimmed.
    pub value: String,
}

fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || t.starts_with('[') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    Some((k.trim(), v.trim()))
}

/// The last (effective) assignment of `key` in `[section]` (section names and keys
/// compare case-sensitively, as systemd does; wsl.conf is lower-case in practice).
pub fn ini_get(text: &str, section: &str, key: &str) -> Option<IniHit> {
    let mut cur: Option<&str> = None;
    let mut hit = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(s) = section_name(line) {
            cur = Some(s);
            continue;
        }
        if cur == Some(section) {
            if let Some((k, v)) = key_value(line) {
                if k == key {
                    hit = Some(IniHit {
                        line: i + 1,
                        value: v.to_string(),
                    });
                }
            }
        }
    }
    hit
}

/// Whether `key` appears commented out (`#key=...`) in `[section]`.
pub fn ini_commented(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut cur: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(s) = section_name(line) {
            cur = Some(s);
            continue;
        }
        if cur == Some(section) {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix('#').or_else(|| t.strip_prefix(';')) {
                if rest
                    .trim_start()
                    .split_once('=')
                    .is_some_and(|(k, _)| k.trim() == key)
                {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// Sets `key=value` in `[section]`: replaces the value of the last assignment in place
/// (keeping the line's own spacing around `=`), else adds the key at the end of the
/// section's last block, else appends the section. Returns the new text.
pub fn ini_set(text: &str, section: &str, key: &str, value: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut cur: Option<&str> = None;
    let mut last_assign = None;
    let mut section_end = None; // index after the last non-blank line of the section
    for (i, line) in lines.iter().enumerate() {
        if let Some(s) = section_name(line) {
            cur = Some(s);
            if s == section {
                section_end = Some(i + 1);
            }
            continue;
        }
        if cur == Some(section) {
            if !line.trim().is_empty() {
                section_end = Some(i + 1);
            }
            if key_value(line).is_some_and(|(k, _)| k == key) {
                last_assign = Some(i);
            }
        }
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if let Some(i) = last_assign {
        let line = &lines[i];
        let eq = line.find('=').unwrap_or(line.len());
        let after = &line[eq + 1..];
        // The spacing after `=`: blanks only (an empty value is followed by the newline).
        let lead_len = after
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        let lead = &after[..lead_len];
        let nl = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        out[i] = format!("{}={lead}{value}{nl}", &line[..eq]);
        return out.concat();
    }
    let spaced = lines
        .iter()
        .filter_map(|l| key_value(l).map(|_| l.contains(" = ")))
        .next()
        .unwrap_or(false);
    let assign = if spaced {
        format!("{key} = {value}\n")
    } else {
        format!("{key}={value}\n")
    };
    match section_end {
        Some(end) => {
            if end > 0 && !out[end - 1].ends_with('\n') {
                out[end - 1].push('\n');
            }
            out.insert(end, assign);
            out.concat()
        }
        None => {
            let mut s = out.concat();
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            if !s.is_empty() && !s.ends_with("\n\n") {
                s.push('\n');
            }
            s.push_str(&format!("[{section}]\n{assign}"));
            s
        }
    }
}

/// Ensures the space-separated `value` of `[section] key` holds every one of `tokens`
/// (a kernel command line): keeps the tokens already there, adds the missing ones.
pub fn ini_add_tokens(text: &str, section: &str, key: &str, tokens: &[&str]) -> String {
    let current = ini_get(text, section, key)
        .map(|h| h.value)
        .unwrap_or_default();
    let mut words: Vec<String> = current.split_whitespace().map(str::to_string).collect();
    for t in tokens {
        let name = t.split('=').next().unwrap_or(t);
        if let Some(w) = words.iter_mut().find(|w| w.split('=').next() == Some(name)) {
            *w = (*t).to_string();
        } else {
            words.push((*t).to_string());
        }
    }
    let value = words.join(" ");
    if value == current {
        return text.to_string();
    }
    ini_set(text, section, key, &value)
}

/// TOML: the value of `key` in the table `path` (empty path: the top level).
pub(crate) fn toml_get(
    doc: &toml_edit::DocumentMut,
    path: &[&str],
    key: &str,
) -> Option<toml_edit::Item> {
    let mut item: &toml_edit::Item = doc.as_item();
    for p in path {
        item = item.get(p)?;
    }
    item.get(key).cloned()
}

/// TOML, as text: sets the string `key` in the table `path` (creating the tables;
/// empty path: the top level), keeping every other byte of `text`: what
/// [`crate::Step::plan`] does to `containers.conf`. `None` when `text` is not valid TOML
/// (then nothing is edited). `toml_edit`'s types stay inside this crate.
///
/// ```
/// let text = "# mine\n[engine]\nevents_logger = \"file\" # kept\n";
/// let out = cgroup_provision::edit::toml_set_string(text, &["engine"], "cgroup_manager", "cgroupfs");
/// assert_eq!(
///     out.as_deref(),
///     Some("# mine\n[engine]\nevents_logger = \"file\" # kept\ncgroup_manager = \"cgroupfs\"\n")
/// );
/// assert_eq!(cgroup_provision::edit::toml_set_string("[x", &[], "k", "v"), None);
/// ```
pub fn toml_set_string(text: &str, path: &[&str], key: &str, value: &str) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().ok()?;
    toml_set(&mut doc, path, key, value.into());
    Some(doc.to_string())
}

/// TOML: sets `key` in table `path` (creating the tables), keeping every other byte.
pub(crate) fn toml_set(
    doc: &mut toml_edit::DocumentMut,
    path: &[&str],
    key: &str,
    value: toml_edit::Value,
) {
    let mut table: &mut toml_edit::Table = doc.as_table_mut();
    for (i, p) in path.iter().enumerate() {
        if !table.contains_key(p) {
            let mut t = toml_edit::Table::new();
            // Intermediate tables stay implicit: `[engine.runtimes]`, not `[engine]` too.
            t.set_implicit(i + 1 < path.len());
            table.insert(p, toml_edit::Item::Table(t));
        }
        let Some(next) = table.get_mut(p).and_then(|i| i.as_table_mut()) else {
            return;
        };
        table = next;
    }
    match table.get_mut(key).and_then(|i| i.as_value_mut()) {
        Some(v) => {
            // Keep the key's own comment and spacing.
            let decor = v.decor().clone();
            *v = value;
            *v.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::Item::Value(value));
        }
    }
}

/// TOML, as text: comments out a top-level `key = value` line (before the first table
/// header), where the guide wrongly put podman keys. Commenting keeps the line and the
/// comments around it; the key is set in its table separately. Returns the new text and
/// whether a line was commented out.
pub fn toml_comment_out_top(text: &str, key: &str, note: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_top = true;
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_top = false;
        }
        let is_key = in_top
            && !t.starts_with('#')
            && t.split_once('=').is_some_and(|(k, v)| {
                let k = k.trim().trim_matches('"');
                // A single-line value only (these keys are strings).
                k == key && !v.trim_start().starts_with('[')
            });
        if is_key {
            let body = line.trim_end_matches(['\n', '\r']);
            let nl = &line[body.len()..];
            out.push_str(&format!(
                "# {body}  # {note}{}",
                if nl.is_empty() { "\n" } else { nl }
            ));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    (out, done)
}

/// A string value, comparing `item` to `want`.
pub(crate) fn toml_str_is(item: Option<&toml_edit::Item>, want: &str) -> bool {
    item.and_then(|i| i.as_str()) == Some(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_set_table() {
        // (input, section, key, value, expected)
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            ("", "boot", "systemd", "true", "[boot]\nsystemd=true\n"),
            (
                "[boot]\nsystemd=false\n",
                "boot",
                "systemd",
                "true",
                "[boot]\nsystemd=true\n",
            ),
            (
                "[boot]\nsystemd = false # old\n",
                "boot",
                "systemd",
                "true",
                "[boot]\nsystemd = true\n",
            ),
            (
                "[automount]\nenabled = true\n",
                "boot",
                "systemd",
                "true",
                "[automount]\nenabled = true\n\n[boot]\nsystemd = true\n",
            ),
            (
                "[boot]\ncommand = x\n\n[network]\nhostname=a\n",
                "boot",
                "systemd",
                "true",
                "[boot]\ncommand = x\nsystemd = true\n\n[network]\nhostname=a\n",
            ),
            (
                "[boot]\n#systemd=true\n",
                "boot",
                "systemd",
                "true",
                "[boot]\n#systemd=true\nsystemd=true\n",
            ),
            (
                "[boot]\nsystemd=true",
                "boot",
                "x",
                "1",
                "[boot]\nsystemd=true\nx=1\n",
            ),
            (
                "[Service]\nDelegate=yes\nDelegate=memory\n",
                "Service",
                "Delegate",
                "cpu cpuset io memory pids",
                "[Service]\nDelegate=yes\nDelegate=cpu cpuset io memory pids\n",
            ),
            (
                "# top comment\n[Slice]\r\nCPUAccounting=no\r\n",
                "Slice",
                "CPUAccounting",
                "yes",
                "# top comment\n[Slice]\r\nCPUAccounting=yes\r\n",
            ),
        ];
        for (input, sec, key, val, want) in cases {
            assert_eq!(ini_set(input, sec, key, val), *want, "{input:?}");
        }
    }

    #[test]
    fn ini_get_and_comments() {
        let t = "[boot]\n#systemd=true\nsystemd=false\nsystemd = true\n[other]\nsystemd=no\n";
        assert_eq!(
            ini_get(t, "boot", "systemd"),
            Some(IniHit {
                line: 4,
                value: "true".into()
            })
        );
        assert_eq!(ini_get(t, "other", "systemd").unwrap().value, "no");
        assert_eq!(ini_get(t, "none", "systemd"), None);
        assert_eq!(
            ini_commented("[boot]\n# systemd=true\n", "boot", "systemd"),
            Some(2)
        );
    }

    #[test]
    fn tokens_are_merged_not_replaced() {
        let t = "[wsl2]\nmemory=8GB\nkernelCommandLine = quiet cgroup_no_v1=memory\n";
        let out = ini_add_tokens(
            t,
            "wsl2",
            "kernelCommandLine",
            &["cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1"],
        );
        assert_eq!(out, "[wsl2]\nmemory=8GB\nkernelCommandLine = quiet cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1\n");
        assert_eq!(
            ini_add_tokens(&out, "wsl2", "kernelCommandLine", &["cgroup_no_v1=all"]),
            out
        );
    }

    #[test]
    fn toml_edits_keep_comments_and_other_keys() {
        let src = "# podman settings\nlog_driver = \"journald\"\n\n[containers]\n# keep me\nnetns = \"host\"\n\n[engine]\ncgroup_manager = \"systemd\" # was systemd\n";
        let mut doc: toml_edit::DocumentMut = src.parse().unwrap();
        toml_set(&mut doc, &["containers"], "log_driver", "k8s-file".into());
        toml_set(&mut doc, &["engine"], "cgroup_manager", "cgroupfs".into());
        toml_set(&mut doc, &["engine"], "events_logger", "file".into());
        let (out, removed) =
            toml_comment_out_top(&doc.to_string(), "log_driver", "moved to [containers]");
        assert!(removed);
        assert!(
            out.contains("# podman settings")
                && out.contains("# keep me")
                && out.contains("netns = \"host\""),
            "{out}"
        );
        assert!(
            out.contains("cgroup_manager = \"cgroupfs\" # was systemd"),
            "{out}"
        );
        let again: toml_edit::DocumentMut = out.parse().unwrap();
        assert!(toml_str_is(
            toml_get(&again, &["containers"], "log_driver").as_ref(),
            "k8s-file"
        ));
        assert!(toml_str_is(
            toml_get(&again, &["engine"], "events_logger").as_ref(),
            "file"
        ));
        assert!(toml_get(&again, &[], "log_driver").is_none());
        assert!(
            out.starts_with(
                "# podman settings\n# log_driver = \"journald\"  # moved to [containers]\n"
            ),
            "{out}"
        );
        let mut d2: toml_edit::DocumentMut = "".parse().unwrap();
        let arr: toml_edit::Array = ["/home/u/.local/bin/crun", "/usr/bin/crun"]
            .into_iter()
            .collect();
        toml_set(
            &mut d2,
            &["engine", "runtimes"],
            "crun",
            toml_edit::Value::Array(arr),
        );
        assert_eq!(
            d2.to_string(),
            "[engine.runtimes]\ncrun = [\"/home/u/.local/bin/crun\", \"/usr/bin/crun\"]\n"
        );
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// Found by the `config_edit` fuzz target: a key with an empty value (`systemd =`)
    /// got the new value on the next line, because the newline counted as spacing.
    #[test]
    fn ini_set_on_an_empty_value() {
        let input = " =d!automount]# ,d  t=ru\n[boot]\nsystemd =\n";
        let out = ini_set(input, "boot", "systemd", "true");
        assert_eq!(
            ini_get(&out, "boot", "systemd").map(|h| h.value).as_deref(),
            Some("true"),
            "{out:?}"
        );
        assert_eq!(out, " =d!automount]# ,d  t=ru\n[boot]\nsystemd =true\n");
        assert_eq!(ini_set("[a]\nk =\t\r\n", "a", "k", "v"), "[a]\nk =\tv\r\n");
        assert_eq!(ini_set("[a]\nk=", "a", "k", "v"), "[a]\nk=v");
    }
}
