//! `containers-conf`: podman's keys in their tables of `/etc/containers/containers.conf`.

use crate::{judge, plan_files, Check, Context, FileWant, Plan, Step, Want};

const CONTAINERS_CONF: &str = "/etc/containers/containers.conf";

pub(super) const STEP: Step = Step {
    id: "containers-conf",
    title: "podman: log_driver k8s-file, events_logger file, cgroup_manager cgroupfs",
    refs: &["https://github.com/containers/common/blob/main/docs/containers.conf.5.md"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    judge(
        cx,
        &containers_conf_files(),
        None,
        "",
        "set the keys in their tables of /etc/containers/containers.conf (log_driver in \
         [containers]; events_logger and cgroup_manager in [engine])",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    plan_files(cx, &containers_conf_files())
}

fn containers_conf_files() -> Vec<FileWant> {
    vec![FileWant {
        path: CONTAINERS_CONF.into(),
        wants: vec![
            Want::TomlStr {
                table: &["containers"],
                key: "log_driver",
                value: "k8s-file",
            },
            Want::TomlStr {
                table: &["engine"],
                key: "events_logger",
                value: "file",
            },
            Want::TomlStr {
                table: &["engine"],
                key: "cgroup_manager",
                value: "cgroupfs",
            },
            Want::TomlNotTop {
                key: "log_driver",
                belongs: "containers",
            },
            Want::TomlNotTop {
                key: "events_logger",
                belongs: "engine",
            },
            Want::TomlNotTop {
                key: "cgroup_manager",
                belongs: "engine",
            },
        ],
        owner: None,
    }]
}
