//! `cgroup2-mount`: cgroup2 mounted on `/sys/fs/cgroup` with `nsdelegate`.

use super::cgroup_v1_off::v1_mounts;
use crate::{judge, plan_files, Check, Command, Context, FileWant, Plan, Step, Want};
use cgroup_core::files;

const FSTAB_LINE: &str =
    "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0";

pub(super) const STEP: Step = Step {
    id: "cgroup2-mount",
    title: "cgroup2 mounted on /sys/fs/cgroup with nsdelegate (/etc/fstab)",
    refs: &["https://docs.kernel.org/admin-guide/cgroup-v2.html"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let pending = if v1_mounts(cx).is_empty() {
        "mount it now: `mount -a`"
    } else {
        "after cgroup v1 is off (cgroup-v1-off), `mount -a`"
    };
    judge(
        cx,
        &fstab_files(),
        Some(cgroup2_effective(cx)),
        pending,
        "add the cgroup2 line with nsdelegate to /etc/fstab",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    let mut p = plan_files(cx, &fstab_files());
    if !cgroup2_effective(cx).0 {
        if v1_mounts(cx).is_empty() {
            p.commands.push(Command {
                argv: vec!["mount".into(), "-a".into()],
                user: None,
                why: "mount cgroup2 on /sys/fs/cgroup now".into(),
            });
        } else {
            p.notes.push(
                "cgroup v1 is still mounted on /sys/fs/cgroup: the mount takes effect after \
                 cgroup-v1-off and a restart"
                    .into(),
            );
        }
    }
    p
}

fn fstab_files() -> Vec<FileWant> {
    vec![FileWant {
        path: "/etc/fstab".into(),
        wants: vec![Want::Line {
            line: FSTAB_LINE.into(),
            matches: fstab_matches,
            good: fstab_good,
        }],
        owner: None,
    }]
}

fn fstab_matches(l: &str) -> bool {
    let f: Vec<&str> = l.split_whitespace().collect();
    f.len() >= 3 && f[1] == "/sys/fs/cgroup" && f[2] == "cgroup2"
}

fn fstab_good(l: &str) -> bool {
    fstab_matches(l)
        && l.split_whitespace()
            .nth(3)
            .is_some_and(|o| o.split(',').any(|x| x == "nsdelegate"))
}

fn cgroup2_effective(cx: &Context<'_>) -> (bool, String) {
    let mi = cx.mountinfo();
    let v2: Vec<(String, bool)> = files::mounts(mi.as_bytes())
        .into_iter()
        .filter(|m| m.is_cgroup2())
        .map(|m| {
            (
                m.mount_point.to_string_lossy().into_owned(),
                m.has_super_option("nsdelegate"),
            )
        })
        .collect();
    match v2.iter().find(|(p, _)| p == "/sys/fs/cgroup") {
        Some((_, true)) => (
            true,
            "cgroup2 mounted on /sys/fs/cgroup with nsdelegate".into(),
        ),
        Some((_, false)) => (
            false,
            "cgroup2 mounted on /sys/fs/cgroup without nsdelegate".into(),
        ),
        None if v2.is_empty() => (false, "no cgroup2 mount".into()),
        None => (
            false,
            format!(
                "cgroup2 mounted on {}, not /sys/fs/cgroup",
                v2.iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}
