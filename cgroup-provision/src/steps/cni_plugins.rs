//! `cni-plugins`: containernetworking-plugins 1.1.1 or newer.

use crate::{
    download_script, is_sha256, version_at_least, Check, Command, Context, Plan, Status, Step,
};

/// The CNI plugins package the guide installs, and where it is fetched over https (the
/// Ubuntu archive's files, served by Launchpad).
const CNI_DEB: &str = "containernetworking-plugins_1.1.1+ds1-3_amd64.deb";
const CNI_URL: &str = "https://launchpad.net/ubuntu/+archive/primary/+files/containernetworking-plugins_1.1.1+ds1-3_amd64.deb";

pub(super) const STEP: Step = Step {
    id: "cni-plugins",
    title: "CNI plugins >= 1.1.1",
    refs: &["https://bugs.launchpad.net/ubuntu/+source/libpod/+bug/2024394"],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    match cx.dpkg_version("containernetworking-plugins") {
        Some(v) if version_at_least(&v, "1.1.1") => Check {
            status: Status::Ok,
            evidence: vec![format!("containernetworking-plugins {v}")],
            fix: None,
        },
        Some(v) => Check {
            status: Status::Partial,
            evidence: vec![format!(
                "containernetworking-plugins {v} is older than 1.1.1"
            )],
            fix: Some("install containernetworking-plugins 1.1.1 or newer".into()),
        },
        None => Check {
            status: Status::Missing,
            evidence: vec![
                "containernetworking-plugins is not installed (/var/lib/dpkg/status)".into(),
            ],
            fix: Some("install containernetworking-plugins 1.1.1 or newer".into()),
        },
    }
}

fn plan(cx: &Context<'_>) -> Plan {
    if cx
        .dpkg_version("containernetworking-plugins")
        .is_some_and(|v| version_at_least(&v, "1.1.1"))
    {
        return Plan::default();
    }
    match cx.cni_sha256.as_deref() {
        Some(sum) if is_sha256(sum) => Plan {
            commands: vec![Command {
                argv: download_script(CNI_URL, sum, "dpkg -i \"$f\""),
                user: None,
                why: format!(
                    "fetch {CNI_DEB} over https into a private directory, check its sha256, \
                     install it"
                ),
            }],
            ..Plan::default()
        },
        Some(_) => Plan {
            notes: vec!["--cni-sha256 must be 64 hex digits: nothing is downloaded".into()],
            ..Plan::default()
        },
        None => Plan {
            notes: vec![format!(
                "{CNI_DEB} is downloaded only with its sha256, checked before dpkg sees it; \
                 cgtree pins none (no published checksum was at hand to verify one): give \
                 --cni-sha256 HEX from the Ubuntu archive's Packages index (SHA256 of \
                 {CNI_DEB}), or install containernetworking-plugins >= 1.1.1 from your \
                 distribution"
            )],
            ..Plan::default()
        },
    }
}
