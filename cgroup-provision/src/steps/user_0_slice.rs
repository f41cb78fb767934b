//! `user-0-slice`: a `user-0.slice` unit for root's session.

use crate::{daemon_reload, eq, judge, with_files, Check, Context, FileWant, Plan, Step, Want};

const USER_0_SLICE: &str = "/etc/systemd/system/user-0.slice";

pub(super) const STEP: Step = Step {
    id: "user-0-slice",
    title: "user-0.slice unit for root's session",
    refs: &["https://www.freedesktop.org/software/systemd/man/latest/systemd.slice.html"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    judge(
        cx,
        &user_0_files(),
        None,
        "",
        "create /etc/systemd/system/user-0.slice",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    with_files(cx, &user_0_files(), vec![daemon_reload()], vec![])
}

/// INI `[section] key=value`, compared exactly.
fn ini(section: &'static str, key: &'static str, value: &str) -> Want {
    Want::Ini {
        section,
        key,
        value: value.into(),
        ok: eq,
    }
}

fn user_0_files() -> Vec<FileWant> {
    vec![FileWant {
        path: USER_0_SLICE.into(),
        wants: vec![
            ini("Unit", "Before", "systemd-logind.service"),
            ini("Slice", "Slice", "user.slice"),
            ini("Install", "WantedBy", "multi-user.target"),
        ],
        owner: None,
    }]
}
