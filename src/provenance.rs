//! Where a blob came from. Later sources (git, images, logs) add variants here.

use serde::Serialize;

/// The origin of a scanned blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Provenance {
    /// A file in a working tree.
    File {
        /// The path as walked (the root as given, joined with the relative part).
        path: String,
        /// The path relative to the scanned root, `/`-separated (for SARIF).
        relative: String,
    },
    /// Standard input.
    Stdin,
}

impl Provenance {
    /// The path a human reads.
    pub fn display_path(&self) -> &str {
        match self {
            Provenance::File { path, .. } => path,
            Provenance::Stdin => "<stdin>",
        }
    }

    /// The path relative to the scanned root, `/`-separated.
    pub fn relative_path(&self) -> &str {
        match self {
            Provenance::File { relative, .. } => relative,
            Provenance::Stdin => "stdin",
        }
    }
}
