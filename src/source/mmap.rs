//! The crate's one `unsafe` call: memory-mapping a file for reading.
#![allow(unsafe_code)]

use std::{fs::File, io};

use memmap2::Mmap;

/// Maps `file` read-only.
///
/// # Errors
/// Whatever `mmap(2)` reports; callers fall back to reading the file.
pub fn map(file: &File) -> io::Result<Mmap> {
    // SAFETY: `Mmap::map` is unsafe because another process may truncate or rewrite the file
    // while it is mapped, which Rust cannot rule out. We only read the mapping, never hand out
    // references that outlive the scan of this one file, and accept the same risk ripgrep
    // accepts: a file truncated mid-scan can raise SIGBUS. Small files (the common case) are
    // read, not mapped, which keeps that window to large files only.
    unsafe { Mmap::map(file) }
}
