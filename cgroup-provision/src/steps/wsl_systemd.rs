//! `wsl-systemd`: WSL boots systemd.

use crate::{judge, na, truthy, with_files, Check, Context, FileWant, Plan, Step, Want};

const WSL_CONF: &str = "/etc/wsl.conf";

pub(super) const STEP: Step = Step {
    id: "wsl-systemd",
    title: "WSL boots systemd ([boot] systemd=true in /etc/wsl.conf)",
    refs: &["https://learn.microsoft.com/windows/wsl/wsl-config"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    if !cx.is_wsl() {
        return na("not WSL");
    }
    judge(
        cx,
        &wsl_systemd_files(),
        Some(pid1_is_systemd(cx)),
        "restart WSL: `wsl --shutdown` in Windows, then open the distro again",
        "set [boot] systemd=true in /etc/wsl.conf",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    if !cx.is_wsl() {
        return Plan::default();
    }
    with_files(
        cx,
        &wsl_systemd_files(),
        vec![],
        vec!["then restart WSL: `wsl --shutdown` in Windows".into()],
    )
}

fn wsl_systemd_files() -> Vec<FileWant> {
    vec![FileWant {
        path: WSL_CONF.into(),
        wants: vec![Want::Ini {
            section: "boot",
            key: "systemd",
            value: "true".into(),
            ok: truthy,
        }],
        owner: None,
    }]
}

fn pid1_is_systemd(cx: &Context<'_>) -> (bool, String) {
    let comm = cx.file("/proc/1/comm").unwrap_or_default();
    let comm = comm.trim();
    (
        comm == "systemd",
        format!(
            "PID 1 is {}",
            if comm.is_empty() { "unknown" } else { comm }
        ),
    )
}
