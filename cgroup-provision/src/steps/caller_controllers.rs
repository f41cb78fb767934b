//! `caller-controllers`: the caller's cgroup has the controllers rootless podman and kind
//! check.

use crate::{controllers_have, Check, Context, Plan, Status, Step};
use cgroup_core::files;

pub(super) const STEP: Step = Step {
    id: "caller-controllers",
    title: "the caller's cgroup has cpu, memory and pids (what rootless podman and kind check)",
    refs: &["https://kind.sigs.k8s.io/docs/user/rootless/"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let Some(cg) = caller_cgroup(cx) else {
        return Check {
            status: Status::Unknown,
            evidence: vec!["the caller's /proc/PID/cgroup cannot be read".into()],
            fix: None,
        };
    };
    match controllers_have(cx, &cg, &["cpu", "memory", "pids"]) {
        Some((true, e)) => Check {
            status: Status::Ok,
            evidence: vec![format!("caller's cgroup {e}")],
            fix: None,
        },
        Some((false, e)) => Check {
            status: Status::Missing,
            evidence: vec![format!("caller's cgroup: {e}")],
            fix: Some(
                "kind will refuse (\"running kind with rootless provider requires setting \
                 systemd property \\\"Delegate=yes\\\"\") although delegation may be set: run \
                 it below the user manager, `systemd-run --scope --user kind create cluster`"
                    .into(),
            ),
        },
        None => Check {
            status: Status::Unknown,
            evidence: vec![format!("cannot read cgroup.controllers of {cg}")],
            fix: None,
        },
    }
}

fn plan(cx: &Context<'_>) -> Plan {
    let bad = caller_cgroup(cx)
        .and_then(|cg| controllers_have(cx, &cg, &["cpu", "memory", "pids"]))
        .is_some_and(|(ok, _)| !ok);
    if bad {
        Plan {
            notes: vec![
                "start podman and kind through `systemd-run --scope --user ...` so they run \
                 below user@UID.service"
                    .into(),
            ],
            ..Plan::default()
        }
    } else {
        Plan::default()
    }
}

/// The caller's cgroup2 path, from `/proc/PID/cgroup` (`caller_pid`, else `self`).
fn caller_cgroup(cx: &Context<'_>) -> Option<String> {
    let file = match cx.caller_pid {
        Some(pid) => format!("/proc/{pid}/cgroup"),
        None => "/proc/self/cgroup".into(),
    };
    let text = cx.file(&file)?;
    files::unified_cgroup(text.as_bytes()).map(|u| String::from_utf8_lossy(&u).into_owned())
}
