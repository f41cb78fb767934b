//! provision steps against tempdir hosts in every state they can be in; apply, re-check,
//! re-apply; backups; a property test that edits touch only their keys.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::Host;
use cgroup_provision::edit::{ini_get, ini_set};
use cgroup_provision::{apply, step, ApplyOptions, Context, FileOutcome, Status, User};
use proptest::prelude::*;
use std::fs;
use std::path::Path;

/// A tempdir host: WSL kernel, PID 1 init, one user.
struct TestHost {
    dir: tempfile::TempDir,
}

impl TestHost {
    fn new() -> Self {
        let t = TestHost {
            dir: tempfile::tempdir().unwrap(),
        };
        t.file(
            "proc/sys/kernel/osrelease",
            "5.15.146.1-microsoft-standard-WSL2\n",
        );
        t.file("proc/1/comm", "init\n");
        t.file(
            "etc/passwd",
            "root:x:0:0::/root:/bin/sh\nmassi:x:1000:1000::/home/massi:/bin/sh\n",
        );
        // The user's home exists (cgtree makes directories inside it, never the home).
        let home = t.dir.path().join("home/massi");
        fs::create_dir_all(&home).unwrap();
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(&home, Some(1000), Some(1000)).unwrap();
        }
        t
    }
    fn file(&self, rel: &str, content: &str) {
        let p = self.dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }
    fn cx<'a>(&self) -> Context<'a> {
        let user = User::new("massi", 1000, 1000, "/home/massi");
        Context::new(Host::with_root(self.dir.path()), Some(user))
    }
    /// The changes the plan of step `id` would make.
    fn planned(&self, id: &str) -> Vec<cgroup_provision::FileChange> {
        step(id).unwrap().plan(&self.cx()).changes
    }
    fn status(&self, id: &str) -> (Status, Vec<String>) {
        let c = step(id).unwrap().check(&mut self.cx());
        (c.status, c.evidence)
    }
    fn apply(&self, id: &str) -> Vec<FileOutcome> {
        let mut cx = self.cx();
        let plan = step(id).unwrap().plan(&cx);
        let r = apply(
            &mut cx,
            &[(id.to_string(), plan)],
            ApplyOptions {
                write: true,
                run_commands: false,
            },
        );
        r.files.into_iter().map(|(_, _, o)| o).collect()
    }
}

#[test]
fn wsl_systemd_in_every_state() {
    let t = TestHost::new();
    // Absent file.
    assert_eq!(t.status("wsl-systemd").0, Status::Missing);
    // Conflicting value, keeping the other keys.
    t.file(
        "etc/wsl.conf",
        "[automount]\nenabled = true\n\n[boot]\nsystemd = false\ncommand = \"echo hi\"\n",
    );
    let (st, ev) = t.status("wsl-systemd");
    assert_eq!(st, Status::Missing);
    assert!(
        ev[0].contains("/etc/wsl.conf:5: [boot] systemd=false (want true)"),
        "{ev:?}"
    );
    assert!(matches!(
        t.apply("wsl-systemd")[0],
        FileOutcome::Changed { backup: Some(_) }
    ));
    assert_eq!(
        t.read("etc/wsl.conf"),
        "[automount]\nenabled = true\n\n[boot]\nsystemd = true\ncommand = \"echo hi\"\n"
    );
    assert_eq!(
        t.read("etc/wsl.conf.cgtree-backup"),
        "[automount]\nenabled = true\n\n[boot]\nsystemd = false\ncommand = \"echo hi\"\n"
    );
    // Configured, not in effect until WSL restarts.
    assert_eq!(t.status("wsl-systemd").0, Status::Pending);
    t.file("proc/1/comm", "systemd\n");
    assert_eq!(t.status("wsl-systemd").0, Status::Ok);
    // Second apply: nothing to write.
    assert!(t.planned("wsl-systemd").is_empty());
    // Commented-out key (on a WSL that runs systemd anyway the status is partial).
    t.file("etc/wsl.conf", "[boot]\n# systemd=true\n");
    assert_eq!(t.status("wsl-systemd").0, Status::Partial);
    t.file("proc/1/comm", "init\n");
    let (st, ev) = t.status("wsl-systemd");
    assert_eq!(st, Status::Missing);
    assert!(
        ev[0].contains(":2: [boot] systemd is commented out"),
        "{ev:?}"
    );
    t.apply("wsl-systemd");
    assert_eq!(
        t.read("etc/wsl.conf"),
        "[boot]\n# systemd=true\nsystemd=true\n"
    );
    // Not WSL: not applicable, and nothing planned.
    t.file("proc/sys/kernel/osrelease", "6.18.44-generic\n");
    assert_eq!(t.status("wsl-systemd").0, Status::NotApplicable);
    assert!(t.planned("wsl-systemd").is_empty());
}

#[test]
fn symlinked_config_is_edited_at_its_target() {
    let t = TestHost::new();
    t.file("etc/wsl.d/main.conf", "[boot]\nsystemd=false\n");
    std::os::unix::fs::symlink("/etc/wsl.d/main.conf", t.dir.path().join("etc/wsl.conf")).unwrap();
    assert_eq!(t.status("wsl-systemd").0, Status::Missing);
    t.apply("wsl-systemd");
    assert!(
        fs::symlink_metadata(t.dir.path().join("etc/wsl.conf"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert_eq!(t.read("etc/wsl.d/main.conf"), "[boot]\nsystemd=true\n");
    assert_eq!(
        t.read("etc/wsl.d/main.conf.cgtree-backup"),
        "[boot]\nsystemd=false\n"
    );
}

#[test]
fn unreadable_config_is_reported_and_not_overwritten() {
    let t = TestHost::new();
    fs::create_dir_all(t.dir.path().join("etc/wsl.conf")).unwrap(); // a directory where a file belongs
    let (st, ev) = t.status("wsl-systemd");
    assert_eq!(st, Status::Missing);
    assert!(ev[0].contains("/etc/wsl.conf: cannot be read"), "{ev:?}");
    let out = t.apply("wsl-systemd");
    assert!(matches!(&out[0], FileOutcome::Refused(_)), "{out:?}");
    assert!(t.dir.path().join("etc/wsl.conf").is_dir());
}

#[test]
fn containers_conf_fixes_the_guides_top_level_keys() {
    let t = TestHost::new();
    // What the guide's `cat <<EOF >` writes: keys at the top level, where podman ignores them.
    t.file(
        "etc/containers/containers.conf",
        "# site settings\nlog_driver = \"k8s-file\"\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\n\n[network]\nnetwork_backend = \"netavark\"\n",
    );
    let (st, ev) = t.status("containers-conf");
    assert_eq!(st, Status::Missing);
    assert!(
        ev.iter().any(|e| e.contains(
            "log_driver at the top level is ignored by podman: it belongs in [containers]"
        )),
        "{ev:?}"
    );
    t.apply("containers-conf");
    let after = t.read("etc/containers/containers.conf");
    assert!(after.starts_with("# site settings\n# log_driver = \"k8s-file\"  # cgtree: log_driver belongs in [containers]\n"), "{after}");
    assert!(
        after.contains("[network]\nnetwork_backend = \"netavark\"\n"),
        "{after}"
    );
    assert!(
        after.contains("[containers]\nlog_driver = \"k8s-file\"\n"),
        "{after}"
    );
    assert!(
        after.contains("[engine]\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\n"),
        "{after}"
    );
    assert_eq!(t.status("containers-conf").0, Status::Ok);
    // A partly right file stays as it is except for the missing key.
    t.file(
        "etc/containers/containers.conf",
        "[engine]\ncgroup_manager = \"cgroupfs\" # keep\nevents_logger = \"journald\"\n",
    );
    assert_eq!(t.status("containers-conf").0, Status::Partial);
    t.apply("containers-conf");
    let after = t.read("etc/containers/containers.conf");
    assert!(
        after.contains("cgroup_manager = \"cgroupfs\" # keep\nevents_logger = \"file\"\n"),
        "{after}"
    );
    // Invalid TOML is never rewritten.
    t.file("etc/containers/containers.conf", "[engine\nbroken");
    assert!(t.status("containers-conf").1[0].contains("not valid TOML"));
    assert!(t.planned("containers-conf").is_empty());
}

#[test]
fn fstab_line_with_other_options_is_replaced_not_duplicated() {
    let t = TestHost::new();
    t.file(
        "etc/fstab",
        "LABEL=root / ext4 defaults 0 1\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n",
    );
    let (st, ev) = t.status("cgroup2-mount");
    assert_eq!(st, Status::Missing);
    assert!(
        ev[0].contains("/etc/fstab:2: cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0 (want"),
        "{ev:?}"
    );
    t.apply("cgroup2-mount");
    assert_eq!(t.read("etc/fstab"), "LABEL=root / ext4 defaults 0 1\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n");
    t.file(
        "proc/self/mountinfo",
        "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
    );
    assert_eq!(t.status("cgroup2-mount").0, Status::Ok);
}

#[test]
fn delegate_accepts_yes_and_checks_the_effective_controllers() {
    let t = TestHost::new();
    t.file(
        "etc/systemd/system/user@.service.d/delegate.conf",
        "[Service]\nDelegate=yes\n",
    );
    t.file(
        "proc/self/mountinfo",
        "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
    );
    // The mount's own cgroup.procs: what makes the directory a cgroup2 hierarchy.
    t.file("sys/fs/cgroup/cgroup.procs", "");
    let svc = "sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";
    t.file(&format!("{svc}/cgroup.controllers"), "memory pids\n");
    let (st, ev) = t.status("user-delegate");
    assert_eq!(st, Status::Pending, "{ev:?}");
    assert!(
        ev.iter().any(|e| e.contains("lacking cpu cpuset io")),
        "{ev:?}"
    );
    t.file(
        &format!("{svc}/cgroup.controllers"),
        "cpuset cpu io memory pids\n",
    );
    assert_eq!(t.status("user-delegate").0, Status::Ok);
}

#[test]
fn wslconfig_kernel_command_line_is_merged() {
    let t = TestHost::new();
    t.file(
        "mnt/c/Users/massi/.wslconfig",
        "[wsl2]\r\nmemory=4GB\r\nkernelCommandLine = quiet\r\n",
    );
    t.file("mnt/c/Users/Public/desktop.ini", "");
    assert_eq!(t.status("cgroup-v1-off").0, Status::Missing);
    t.apply("cgroup-v1-off");
    assert_eq!(
        t.read("mnt/c/Users/massi/.wslconfig"),
        "[wsl2]\r\nmemory=4GB\r\nkernelCommandLine = quiet cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1\r\n"
    );
    assert_eq!(
        t.status("cgroup-v1-off").0,
        Status::Pending,
        "needs wsl --shutdown"
    );
    t.file(
        "proc/cmdline",
        "quiet cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1\n",
    );
    assert_eq!(t.status("cgroup-v1-off").0, Status::Ok);
}

#[test]
fn dry_run_writes_nothing_and_new_files_belong_to_the_user() {
    let t = TestHost::new();
    let mut cx = t.cx();
    let plan = step("crun-version").unwrap().plan(&cx);
    assert_eq!(plan.changes.len(), 1);
    assert!(
        plan.notes.iter().any(|n| n.contains("--crun-version")),
        "the plan asks for the version: {:?}",
        plan.notes
    );
    let r = apply(
        &mut cx,
        &[("crun-version".into(), plan.clone())],
        ApplyOptions::default(),
    );
    assert_eq!(r.files[0].2, FileOutcome::WouldChange);
    assert!(!t.dir.path().join("home/massi/.config").exists());
    let r = apply(
        &mut cx,
        &[("crun-version".into(), plan)],
        ApplyOptions {
            write: true,
            run_commands: true,
        },
    );
    assert_eq!(r.files[0].2, FileOutcome::Changed { backup: None });
    assert!(
        r.commands.is_empty()
            || r.commands
                .iter()
                .all(|(_, _, o)| matches!(o, cgroup_provision::CommandOutcome::Skipped(_))),
        "never run on a fixture root"
    );
    use std::os::unix::fs::MetadataExt;
    let conf = t
        .dir
        .path()
        .join("home/massi/.config/containers/containers.conf");
    if nix::unistd::geteuid().is_root() {
        assert_eq!(fs::metadata(&conf).unwrap().uid(), 1000);
        assert_eq!(fs::metadata(conf.parent().unwrap()).unwrap().uid(), 1000);
    }
    let mut cx = t.cx();
    cx.crun_version = Some("1.14.4".into());
    // Without a checksum, nothing is downloaded: the plan asks for it.
    let plan = step("crun-version").unwrap().plan(&cx);
    assert!(plan.commands.is_empty(), "{plan:?}");
    assert!(
        plan.notes.iter().any(|n| n.contains("--crun-sha256")),
        "{plan:?}"
    );
    cx.crun_sha256 = Some("0".repeat(64));
    let plan = step("crun-version").unwrap().plan(&cx);
    assert!(
        plan.commands
            .iter()
            .any(|c| c.user.as_deref() == Some("massi")
                && c.argv
                    .iter()
                    .any(|a| a.contains("/1.14.4/crun-1.14.4-linux-amd64"))),
        "{plan:?}"
    );
    assert!(Path::new(&t.dir.path().join("home/massi")).exists());
}

fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}=[a-z0-9 ]{0,8}",
        "[A-Za-z]{1,6} = [a-z0-9]{0,8}",
        "# [a-z =]{0,12}",
        "\\[(boot|wsl2|net|Service)\\]",
        // The target key itself, with and without a value and spacing (the fuzzer found
        // `systemd =` with an empty value).
        "systemd ?= ?[a-z]{0,3}",
        Just(String::new()),
    ]
}

proptest! {
    /// Setting a key changes only the line of that key, or adds one line: every other
    /// line is kept, in order.
    #[test]
    fn ini_set_keeps_every_other_line(lines in prop::collection::vec(ini_line(), 0..25), value in "[a-z0-9]{1,8}") {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let out = ini_set(&text, "boot", "systemd", &value);
        prop_assert_eq!(ini_get(&out, "boot", "systemd").map(|h| h.value), Some(value.clone()));
        let before: Vec<&str> = text.lines().collect();
        let after: Vec<&str> = out.lines().collect();
        let hit = ini_get(&text, "boot", "systemd");
        match hit {
            Some(h) => {
                prop_assert_eq!(before.len(), after.len());
                for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                    if i + 1 != h.line {
                        prop_assert_eq!(b, a);
                    }
                }
            }
            None => {
                // Only additions: `before` is a subsequence of `after`.
                let mut it = after.iter();
                for b in &before {
                    prop_assert!(it.any(|a| a == b), "line {:?} lost", b);
                }
                prop_assert!(after.len() <= before.len() + 3);
            }
        }
    }

    /// TOML: setting podman's keys keeps every other key's value and every comment.
    #[test]
    fn toml_set_keeps_other_keys(keys in prop::collection::btree_map("[a-z]{1,6}", "[a-z0-9]{0,6}", 0..8)) {
        let mut text = String::from("# header comment\n[engine]\n");
        for (k, v) in &keys {
            text.push_str(&format!("{k}_x = \"{v}\" # c\n"));
        }
        let out = cgroup_provision::edit::toml_set_string(&text, &["engine"], "cgroup_manager", "cgroupfs").unwrap();
        prop_assert!(out.starts_with("# header comment\n[engine]\n"));
        for (k, v) in &keys {
            let line = format!("{k}_x = \"{v}\" # c\n");
            prop_assert!(out.contains(&line), "lost {:?}", line);
        }
        prop_assert!(out.ends_with("cgroup_manager = \"cgroupfs\"\n"));
    }
}

/// A runner that records what it is asked to run.
#[derive(Default)]
struct Recorder {
    ran: Vec<Vec<String>>,
}

impl cgroup_provision::Runner for Recorder {
    fn run(
        &mut self,
        cmd: &cgroup_provision::Command,
    ) -> std::io::Result<cgroup_provision::Finished> {
        self.ran.push(cmd.argv.clone());
        Ok(cgroup_provision::Finished::default())
    }
}

#[test]
fn commands_go_through_the_runner_and_never_run_on_a_fixture_root() {
    let t = TestHost::new();
    let mut rec = Recorder::default();
    {
        let mut cx = t.cx();
        cx.runner = Some(&mut rec);
        let plan = step("user-delegate").unwrap().plan(&cx);
        assert!(
            plan.commands
                .iter()
                .any(|c| c.argv == ["systemctl", "daemon-reload"]),
            "{plan:?}"
        );
        let r = apply(
            &mut cx,
            &[("user-delegate".into(), plan)],
            ApplyOptions {
                write: true,
                run_commands: true,
            },
        );
        assert!(
            matches!(&r.commands[0].2, cgroup_provision::CommandOutcome::Skipped(why) if why.contains("is not the live host")),
            "{:?}",
            r.commands
        );
        // Checks run nothing (the runner is only for apply's commands).
        let _ = step("crun-version").unwrap().check(&mut cx);
    }
    assert!(
        rec.ran.is_empty(),
        "nothing executed for a fixture root: {:?}",
        rec.ran
    );
}

/// Rule 8: with a checksum, a download is one script: https only (redirects too), into a
/// private `mktemp -d` directory removed on exit, checked with sha256sum before dpkg or
/// install use it; crun is installed by the user. A bad checksum or version: nothing.
#[test]
fn downloads_with_a_checksum_are_https_private_and_checked_first() {
    let t = TestHost::new();
    let mut cx = t.cx();
    cx.crun_version = Some("1.14.4".into());
    let sum = "ab".repeat(32);
    cx.crun_sha256 = Some(sum.clone());
    cx.cni_sha256 = Some(sum.clone());
    for (id, user, then) in [
        ("cni-plugins", None, "dpkg -i \"$f\""),
        (
            "crun-version",
            Some("massi"),
            "install -m 0755 \"$f\" '/home/massi/.local/bin/crun'",
        ),
    ] {
        let plan = step(id).unwrap().plan(&cx);
        assert_eq!(plan.commands.len(), 1, "{id}: {plan:?}");
        let c = &plan.commands[0];
        assert_eq!(c.user.as_deref(), user, "{id}");
        assert_eq!(&c.argv[..2], ["sh", "-c"], "{id}");
        let script = &c.argv[2];
        let at = |needle: &str| {
            script
                .find(needle)
                .unwrap_or_else(|| panic!("{id}: no {needle:?} in {script}"))
        };
        assert!(at("mktemp -d") < at("curl -q --proto =https --proto-redir =https"));
        assert!(at("trap 'rm -rf") < at("curl"));
        assert!(at("curl") < at(&format!("printf '%s  %s\\n' {sum}")));
        assert!(
            at("sha256sum -c") < at(then),
            "{id}: checked before use: {script}"
        );
        assert!(!script.contains("http://"));
    }
    for (v, s) in [
        ("1.14.4; rm -rf /", sum.as_str()),
        ("1.14.4", "abc"),
        ("1.14.4", &"zz".repeat(32)),
    ] {
        cx.crun_version = Some(v.into());
        cx.crun_sha256 = Some(s.into());
        cx.cni_sha256 = Some(s.into());
        let plan = step("crun-version").unwrap().plan(&cx);
        assert!(plan.commands.is_empty(), "{v} {s}: {plan:?}");
    }
    cx.cni_sha256 = Some("abc".into());
    assert!(step("cni-plugins").unwrap().plan(&cx).commands.is_empty());
}

/// Rule 3: /etc/passwd through the bounded reader: a FIFO or a huge file there gives no
/// user, at once.
#[test]
fn passwd_fifo_or_huge_gives_no_user_without_hanging() {
    let t = TestHost::new();
    let p = t.dir.path().join("etc/passwd");
    fs::remove_file(&p).unwrap();
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let host = Host::with_root(t.dir.path());
    assert_eq!(cgroup_provision::find_user(&host, None), None);
    fs::remove_file(&p).unwrap();
    fs::File::create(&p).unwrap().set_len(1 << 30).unwrap();
    assert_eq!(cgroup_provision::find_user(&host, Some("massi")), None);
}
