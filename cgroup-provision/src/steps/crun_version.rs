//! `crun-version`: crun 1.9.0 or newer, registered in the user's `containers.conf`.

use crate::{
    download_script, is_sha256, judge, plan_files, sh_quote, version_at_least, Check, Command,
    Context, FileWant, Plan, Status, Step, Want,
};
use std::path::PathBuf;

pub(super) const STEP: Step = Step {
    id: "crun-version",
    title: "crun >= 1.9.0 registered in the user's containers.conf",
    refs: &[
        "https://noobient.com/2023/11/15/fixing-ubuntu-containers-failing-to-start-with-\
         systemd/",
    ],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let system = cx.dpkg_version("crun");
    if system
        .as_deref()
        .is_some_and(|v| version_at_least(v, "1.9.0"))
    {
        return Check {
            status: Status::Ok,
            evidence: vec![format!(
                "crun {} (/usr/bin/crun)",
                system.unwrap_or_default()
            )],
            fix: None,
        };
    }
    let Some((_, local, _)) = user_conf(cx) else {
        return Check {
            status: Status::Unknown,
            evidence: vec!["no user given (--user) for ~/.local/bin/crun".into()],
            fix: None,
        };
    };
    let files = crun_files(cx);
    // A check executes nothing: the user's file is looked at, never run.
    let eff = if cx.exists(&local) {
        (
            true,
            format!(
                "{} exists (its version is not checked: cgtree does not run a user's file; run \
                 `{} --version` as the user)",
                local.display(),
                local.display()
            ),
        )
    } else {
        (
            false,
            format!(
                "{} does not exist; system crun is {}",
                local.display(),
                system.as_deref().unwrap_or("not installed")
            ),
        )
    };
    judge(
        cx,
        &files,
        Some(eff),
        "download crun >= 1.9.0 to ~/.local/bin/crun: `cgtree provision apply crun-version \
         --crun-version X.Y.Z --crun-sha256 HEX --yes --run-commands`",
        "register ~/.local/bin/crun in [engine.runtimes] of the user's containers.conf and \
         download crun >= 1.9.0 there",
    )
}

fn plan(cx: &Context<'_>) -> Plan {
    if cx
        .dpkg_version("crun")
        .is_some_and(|v| version_at_least(&v, "1.9.0"))
    {
        return Plan::default();
    }
    let Some((_, local, _)) = user_conf(cx) else {
        return Plan {
            notes: vec!["give --user to plan ~/.local/bin/crun".into()],
            ..Plan::default()
        };
    };
    let mut p = plan_files(cx, &crun_files(cx));
    if !cx.exists(&local) {
        let user = cx.user.as_ref().map(|u| u.name.clone());
        match &cx.crun_version {
            Some(v) if !plain_version(v) => p.notes.push(
                "--crun-version takes a release number (X.Y.Z): nothing is downloaded".into(),
            ),
            Some(v) if version_at_least(v, "1.9.0") => match cx.crun_sha256.as_deref() {
                Some(sum) if is_sha256(sum) => {
                    // As the user: the file lands in the user's home with the
                    // user's rights, never root's.
                    let dir = local
                        .parent()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default();
                    let install = format!(
                        "mkdir -p {}; install -m 0755 \"$f\" {}",
                        sh_quote(&dir),
                        sh_quote(&local.display().to_string())
                    );
                    p.commands.push(Command {
                        argv: download_script(
                            &format!(
                                "https://github.com/containers/crun/releases/download/{v}/\
                                 crun-{v}-linux-amd64"
                            ),
                            sum,
                            &install,
                        ),
                        user,
                        why: format!(
                            "download crun {v} over https into a private directory, check its \
                             sha256, install it as ~/.local/bin/crun (as the user)"
                        ),
                    });
                }
                Some(_) => p
                    .notes
                    .push("--crun-sha256 must be 64 hex digits: nothing is downloaded".into()),
                None => p.notes.push(format!(
                    "crun {v} is downloaded only with its sha256, checked before it is \
                     installed; cgtree pins no checksum for crun releases: give --crun-sha256 \
                     HEX, the SHA-256 of crun-{v}-linux-amd64 from \
                     https://github.com/containers/crun/releases/tag/{v}"
                )),
            },
            Some(v) => p.notes.push(format!(
                "crun {v} is older than 1.9.0: give --crun-version 1.9.0 or newer"
            )),
            None => p.notes.push(
                "give --crun-version X.Y.Z (>= 1.9.0) to plan the download of ~/.local/bin/crun \
                 (the guide leaves CRUN_VER unset)"
                    .into(),
            ),
        }
    }
    p
}

/// The user's `containers.conf`, `~/.local/bin/crun` and the user's UID and GID.
fn user_conf(cx: &Context<'_>) -> Option<(PathBuf, PathBuf, (u32, u32))> {
    let u = cx.user.as_ref()?;
    Some((
        u.home.join(".config/containers/containers.conf"),
        u.home.join(".local/bin/crun"),
        (u.uid, u.gid),
    ))
}

fn crun_files(cx: &Context<'_>) -> Vec<FileWant> {
    match user_conf(cx) {
        Some((conf, local, owner)) => vec![FileWant {
            path: conf,
            wants: vec![Want::TomlArr {
                table: &["engine", "runtimes"],
                key: "crun",
                value: vec![local.display().to_string(), "/usr/bin/crun".into()],
            }],
            owner: Some(owner),
        }],
        None => Vec::new(),
    }
}

/// A release version as the download URL takes it: digits and dots only.
fn plain_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
