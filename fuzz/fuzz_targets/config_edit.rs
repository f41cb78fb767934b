//! Fuzz target: provision's config editors (INI set must hold, TOML). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::comm(b"");
    if let Ok(text) = std::str::from_utf8(data) {
        let out = cgroup_provision::edit::ini_set(text, "boot", "systemd", "true");
        assert_eq!(cgroup_provision::edit::ini_get(&out, "boot", "systemd").map(|h| h.value).as_deref(), Some("true"));
        let _ = cgroup_provision::edit::ini_add_tokens(text, "wsl2", "kernelCommandLine", &["cgroup_no_v1=all"]);
        let _ = cgroup_provision::edit::toml_comment_out_top(text, "log_driver", "x");
        let _ = cgroup_provision::edit::toml_set_string(text, &["engine"], "cgroup_manager", "cgroupfs");
    }
});
