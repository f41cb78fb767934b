//! The throw-away user that the security tests play the attacker with: it is made, runs
//! commands as itself, and leaves nothing behind.

#![allow(clippy::unwrap_used)]

#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use throwaway_user::ThrowawayUser;

#[test]
fn a_throwaway_user_runs_as_itself_and_is_removed() {
    let Some(mut u) = ThrowawayUser::create("the throw-away user test") else {
        return;
    };
    let (uid, name, home) = (u.uid, u.name.clone(), u.home.clone());
    let out = u.sh("id -u; id -g; touch \"$HOME/mine\"");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{uid}\n{uid}\n")
    );
    let st = std::fs::metadata(home.join("mine")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&st), uid);
    let run = u.runtime_dir();
    let pid = u.spawn(u.command("sleep").arg("600"));
    // A grandchild the test never sees by PID (a shell's background job) goes too.
    u.sh("sleep 600 >/dev/null 2>&1 &");
    assert!(throwaway_user::pids_of_uid(uid).len() >= 2);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.contains(&uid.to_string())));
    drop(u);
    assert!(nix::unistd::User::from_name(&name).unwrap().is_none());
    assert!(!home.exists() && !run.exists());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(throwaway_user::pids_of_uid(uid).is_empty());
}
