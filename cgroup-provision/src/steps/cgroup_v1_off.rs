//! `cgroup-v1-off`: the kernel boots with cgroup v1 off.

use crate::{judge, with_files, Check, Context, FileWant, Plan, Status, Step, Want};
use cgroup_core::files as user;
use std::path::{Path, PathBuf};

const KERNEL_ARGS: &[&str] = &["cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1"];

pub(super) const STEP: Step = Step {
    id: "cgroup-v1-off",
    title: "cgroup v1 off (cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1)",
    refs: &[
        "https://docs.kernel.org/admin-guide/cgroup-v2.html",
        "https://github.com/spurin/wsl-cgroupsv2",
    ],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let eff = v1_effective(cx);
    if cx.is_wsl() {
        let files = v1_files(cx);
        if files.is_empty() {
            let mut c = judge(cx, &[], Some(eff), "", "");
            if c.status != Status::Ok {
                c.status = Status::Unknown;
                c.evidence.push(
                    "cannot tell which C:\\Users\\<name>\\.wslconfig WSL reads (none or several \
                     under /mnt/c/Users)"
                        .into(),
                );
                c.fix = Some(
                    "add `kernelCommandLine = cgroup_no_v1=all \
                     systemd.unified_cgroup_hierarchy=1` under [wsl2] in \
                     %USERPROFILE%\\.wslconfig on Windows, then `wsl --shutdown`"
                        .into(),
                );
            }
            return c;
        }
        return judge(
            cx,
            &files,
            Some(eff),
            "restart WSL so the kernel reads .wslconfig: `wsl --shutdown` in Windows",
            "add the kernel arguments under [wsl2] kernelCommandLine in the Windows-side \
             .wslconfig (WSL does not read kernelCommandLine from /etc/wsl.conf)",
        );
    }
    let mut c = judge(
        cx,
        &[],
        Some(eff),
        "",
        "boot the kernel with cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 (e.g. \
         GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)",
    );
    if c.status == Status::Partial {
        c.status = Status::Missing;
    }
    c
}

fn plan(cx: &Context<'_>) -> Plan {
    if cx.is_wsl() {
        let files = v1_files(cx);
        if files.is_empty() {
            return Plan {
                notes: vec!["add `kernelCommandLine = cgroup_no_v1=all \
                     systemd.unified_cgroup_hierarchy=1` under [wsl2] in \
                     %USERPROFILE%\\.wslconfig on Windows"
                    .into()],
                ..Plan::default()
            };
        }
        return with_files(
            cx,
            &files,
            vec![],
            vec!["then restart WSL: `wsl --shutdown` in Windows".into()],
        );
    }
    if v1_effective(cx).0 {
        return Plan::default();
    }
    Plan {
        notes: vec![
            "not WSL: add cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 to the kernel \
             command line (GRUB_CMDLINE_LINUX in /etc/default/grub, `update-grub`, reboot); \
             cgtree does not edit boot loaders"
                .into(),
        ],
        ..Plan::default()
    }
}

/// The `.wslconfig` WSL reads: `C:\Users\<name>\.wslconfig`, seen at `/mnt/c/Users/<name>`.
fn wslconfig(cx: &Context<'_>) -> Option<PathBuf> {
    let mut names: Vec<String> = user::list_host_dirs(cx.host.root(), Path::new("mnt/c/Users"))
        .ok()?
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| {
            !matches!(
                n.as_str(),
                "Public" | "Default" | "Default User" | "All Users" | "defaultuser0"
            )
        })
        .collect();
    names.sort();
    let pick = match &cx.user {
        Some(u) if names.iter().any(|n| n.eq_ignore_ascii_case(&u.name)) => {
            names.into_iter().find(|n| n.eq_ignore_ascii_case(&u.name))
        }
        _ if names.len() == 1 => names.pop(),
        _ => None,
    }?;
    Some(PathBuf::from(format!("/mnt/c/Users/{pick}/.wslconfig")))
}

/// Mount points of cgroup v1 hierarchies (also read by `cgroup2-mount`).
pub(super) fn v1_mounts(cx: &Context<'_>) -> Vec<String> {
    let mi = cx.mountinfo();
    user::mounts(mi.as_bytes())
        .into_iter()
        .filter(|m| m.is_cgroup1())
        .map(|m| m.mount_point.to_string_lossy().into_owned())
        .collect()
}

fn v1_effective(cx: &Context<'_>) -> (bool, String) {
    let cmdline = cx.file("/proc/cmdline").unwrap_or_default();
    let missing: Vec<&str> = KERNEL_ARGS
        .iter()
        .copied()
        .filter(|a| !cmdline.split_whitespace().any(|w| w == *a))
        .collect();
    let mounts = v1_mounts(cx);
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("/proc/cmdline lacks {}", missing.join(" ")));
    }
    if !mounts.is_empty() {
        parts.push(format!("cgroup v1 still mounted: {}", mounts.join(", ")));
    }
    if parts.is_empty() {
        (
            true,
            "kernel booted with cgroup v1 off; no v1 mounts".into(),
        )
    } else {
        (mounts.is_empty() && missing.is_empty(), parts.join("; "))
    }
}

fn v1_files(cx: &Context<'_>) -> Vec<FileWant> {
    match wslconfig(cx) {
        Some(p) if cx.is_wsl() => vec![FileWant {
            path: p,
            wants: vec![Want::Tokens {
                section: "wsl2",
                key: "kernelCommandLine",
                tokens: KERNEL_ARGS,
            }],
            owner: None,
        }],
        _ => Vec::new(),
    }
}
