//! `user-delegate`: controllers delegated to user managers (`user@.service`).

use crate::{
    controllers_have, daemon_reload, judge, truthy, with_files, Check, Context, FileWant, Plan,
    Step, Want,
};

const DELEGATE_CONF: &str = "/etc/systemd/system/user@.service.d/delegate.conf";
const DELEGATED: &[&str] = &["cpu", "cpuset", "io", "memory", "pids"];

pub(super) const STEP: Step = Step {
    id: "user-delegate",
    title: "Delegate=cpu cpuset io memory pids for user managers",
    refs: &[
        "https://www.freedesktop.org/software/systemd/man/latest/user@.service.html",
        "https://unix.stackexchange.com/questions/624428/cgroups-v2-cgroup-controllers-not-\
         delegated-to-non-privileged-users-on-centos-s/625079#625079",
    ],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let eff = cx.user.as_ref().and_then(|u| {
        controllers_have(
            cx,
            &format!("/user.slice/user-{0}.slice/user@{0}.service", u.uid),
            DELEGATED,
        )
    });
    judge(
        cx,
        &delegate_files(),
        eff,
        "`systemctl daemon-reload`, then restart the user manager (log out and in, or \
         `systemctl restart user@UID.service`)",
        "set Delegate=cpu cpuset io memory pids in \
         /etc/systemd/system/user@.service.d/delegate.conf",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    with_files(cx, &delegate_files(), vec![daemon_reload()], vec![])
}

fn delegate_ok(v: &str, _: &str) -> bool {
    truthy(v, "")
        || DELEGATED
            .iter()
            .all(|c| v.split_whitespace().any(|w| w == *c))
}

fn delegate_files() -> Vec<FileWant> {
    vec![FileWant {
        path: DELEGATE_CONF.into(),
        wants: vec![Want::Ini {
            section: "Service",
            key: "Delegate",
            value: DELEGATED.join(" "),
            ok: delegate_ok,
        }],
        owner: None,
    }]
}
