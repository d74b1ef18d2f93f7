//! Sources: everything that touches the file system or standard input.
//!
//! A source turns its inputs into blobs (bytes plus [`crate::provenance::Provenance`]) and hands
//! each to a callback; it never matches. Errors on one input are reported as [`InputError`]s and
//! the source goes on with the rest.

pub mod fs;
pub mod mmap;

use std::fmt;

use serde::Serialize;

/// An input that could not be read, named, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// The input (a path, `<stdin>`).
    pub input: String,
    /// Why it failed.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// Bytes at the start of a blob looked at to decide whether it is binary.
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// True when the first [`BINARY_SNIFF_LEN`] bytes contain a NUL, as git and ripgrep decide.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}
