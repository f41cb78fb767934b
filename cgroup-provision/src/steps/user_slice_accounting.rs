//! `user-slice-accounting`: CPU, memory, IO and task accounting for user slices.

use crate::{
    controllers_have, daemon_reload, judge, truthy, with_files, Check, Context, FileWant, Plan,
    Step, Want,
};

const USER_SLICE_OVERRIDE: &str = "/etc/systemd/system/user-.slice.d/override.conf";

pub(super) const STEP: Step = Step {
    id: "user-slice-accounting",
    title: "CPU, memory, IO and task accounting for user slices",
    refs: &[
        "https://www.freedesktop.org/software/systemd/man/latest/systemd.resource-control.html",
    ],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let eff = cx.user.as_ref().and_then(|u| {
        controllers_have(
            cx,
            &format!("/user.slice/user-{}.slice", u.uid),
            &["cpu", "io", "memory", "pids"],
        )
    });
    judge(
        cx,
        &accounting_files(),
        eff,
        "`systemctl daemon-reload`, then log out and in again",
        "add the accounting keys to /etc/systemd/system/user-.slice.d/override.conf",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    with_files(cx, &accounting_files(), vec![daemon_reload()], vec![])
}

fn accounting_files() -> Vec<FileWant> {
    vec![FileWant {
        path: USER_SLICE_OVERRIDE.into(),
        wants: [
            "CPUAccounting",
            "MemoryAccounting",
            "IOAccounting",
            "TasksAccounting",
        ]
        .into_iter()
        .map(|k| Want::Ini {
            section: "Slice",
            key: k,
            value: "yes".into(),
            ok: truthy,
        })
        .collect(),
        owner: None,
    }]
}
