//! The name list of `listxattr(2)`: names, each ended by a NUL byte.

/// The names of a `listxattr(2)` list (`user.foo\0trusted.bar\0`), in order; empty
/// entries (two NULs in a row, a list not ended by NUL) are skipped, a last name without
/// its NUL is kept. Never panics, allocates nothing.
pub fn xattr_names(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    list.split(|&b| b == 0).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let v: Vec<&[u8]> = xattr_names(b"user.a\0trusted.bb\0").collect();
        assert_eq!(v, [&b"user.a"[..], b"trusted.bb"]);
        assert_eq!(xattr_names(b"").count(), 0);
        assert_eq!(xattr_names(b"\0\0x").collect::<Vec<_>>(), [&b"x"[..]]);
    }
}
