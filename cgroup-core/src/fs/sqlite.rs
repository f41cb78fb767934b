//! Reading an SQLite database from bytes cgtree already read with its own file rules
//! (no symlink followed in a user's directory, their files only, size-capped): SQLite
//! opens files by name, so the bytes are copied to a file of cgtree's own, in a fresh
//! private directory (`mkdtemp`, mode 0700) under the temporary directory, opened
//! read-only and `immutable` (no lock, no journal, no WAL looked at), and removed
//! afterwards. (An anonymous memory file does not do: SQLite resolves
//! `/proc/self/fd/N` to the memfd's name, which cannot be opened.) SQLite itself checks
//! the file: a corrupt one is an error.

use std::io::Write;
use std::path::PathBuf;

/// The private directory and its one file, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.join("db.sql"));
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The first two columns (as text) of at most `max` rows of query `sql` on the
/// database whose bytes are `bytes`.
pub(crate) fn rows(bytes: &[u8], sql: &str, max: usize) -> Result<Vec<(String, String)>, String> {
    use rusqlite::OpenFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = nix::unistd::mkdtemp(&std::env::temp_dir().join("cgtree-sqlite-XXXXXX"))
        .map_err(|e| format!("mkdtemp: {e}"))?;
    let scratch = Scratch(dir);
    let path = scratch.0.join("db.sql");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| e.to_string())?;
    file.write_all(bytes).map_err(|e| e.to_string())?;
    drop(file);
    let Some(p) = path.to_str() else {
        return Err("temporary directory name is not UTF-8".into());
    };
    let uri = format!("file:{p}?immutable=1");
    let db = rusqlite::Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("SQLite: {e}"))?;
    let mut stmt = db.prepare(sql).map_err(|e| format!("SQLite: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| format!("SQLite: {e}"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| format!("SQLite: {e}"))? {
        if out.len() >= max {
            break;
        }
        let text = |i: usize| -> Option<String> {
            match row.get_ref(i).ok()? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
                _ => None,
            }
        };
        if let (Some(a), Some(b)) = (text(0), text(1)) {
            out.push((a, b));
        }
    }
    Ok(out)
}
