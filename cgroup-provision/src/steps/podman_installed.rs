//! `podman-installed`: a podman binary on the host.

use crate::{Check, Command, Context, Plan, Status, Step};

pub(super) const STEP: Step = Step {
    id: "podman-installed",
    title: "podman installed",
    refs: &["https://docs.podman.io/en/stable/markdown/podman.1.html"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    match cx.find_binary("podman") {
        Some(p) => Check {
            status: Status::Ok,
            evidence: vec![format!(
                "{} ({})",
                p.display(),
                cx.dpkg_version("podman")
                    .map(|v| format!("podman {v}"))
                    .unwrap_or_else(|| "version unknown".into())
            )],
            fix: None,
        },
        None => Check {
            status: Status::Missing,
            evidence: vec!["no podman in /usr/local/bin, /usr/bin, /bin".into()],
            fix: Some("install podman: `apt-get install -y podman`".into()),
        },
    }
}

fn plan(cx: &Context<'_>) -> Plan {
    if cx.find_binary("podman").is_some() {
        return Plan::default();
    }
    Plan {
        commands: vec![Command {
            argv: vec![
                "apt-get".into(),
                "install".into(),
                "-y".into(),
                "podman".into(),
            ],
            user: None,
            why: "install podman".into(),
        }],
        ..Plan::default()
    }
}
