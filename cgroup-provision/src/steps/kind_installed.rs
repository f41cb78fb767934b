//! `kind-installed`: a kind binary on the host or in the user's home.

use crate::{Check, Context, Plan, Status, Step};

pub(super) const STEP: Step = Step {
    id: "kind-installed",
    title: "kind installed",
    refs: &["https://kind.sigs.k8s.io/docs/user/quick-start/#installation"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    match cx.find_binary("kind") {
        Some(p) => Check {
            status: Status::Ok,
            evidence: vec![p.display().to_string()],
            fix: None,
        },
        None => Check {
            status: Status::Missing,
            evidence: vec![
                "no kind in /usr/local/bin, /usr/bin, /bin, ~/.local/bin, ~/go/bin".into(),
            ],
            fix: Some(
                "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
                    .into(),
            ),
        },
    }
}

fn plan(cx: &Context<'_>) -> Plan {
    if cx.find_binary("kind").is_some() {
        return Plan::default();
    }
    Plan {
        notes: vec![
            "install kind: `go install sigs.k8s.io/kind@latest`, or a release binary in \
             /usr/local/bin"
                .into(),
        ],
        ..Plan::default()
    }
}
