//! Where a blob came from.

use std::sync::Arc;

use serde::Serialize;

/// A git commit, as much of it as a responder needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Commit {
    /// Author time, seconds since the epoch (first, so that sorting puts the oldest first).
    pub timestamp: i64,
    /// Full hex id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
}

/// The origin of a scanned blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
    /// A blob in git history, at the path where a commit introduced it.
    GitBlob {
        /// The commit that introduced the blob at this path.
        commit: Arc<Commit>,
        /// Path in the commit's tree.
        path: String,
        /// The blob id.
        blob: String,
    },
    /// A commit message, or an annotated tag's message.
    GitMessage {
        /// The commit (for a tag: the tagger and the tag object's id).
        commit: Arc<Commit>,
        /// The tag name, for a tag message.
        tag: Option<String>,
    },
    /// A blob in the object database that no ref reaches (`--all-objects`).
    GitUnreachable {
        /// The blob id.
        blob: String,
    },
    /// A file staged in the index (`--staged`).
    Staged {
        /// Path in the index.
        path: String,
    },
}

impl Provenance {
    /// The path a human reads.
    pub fn display_path(&self) -> String {
        match self {
            Provenance::File { path, .. } => path.clone(),
            Provenance::Stdin => "<stdin>".to_string(),
            Provenance::GitBlob { path, .. } | Provenance::Staged { path } => path.clone(),
            Provenance::GitMessage { commit, tag: None } => {
                format!("commit {} message", short(&commit.id))
            }
            Provenance::GitMessage { tag: Some(tag), .. } => format!("tag {tag} message"),
            Provenance::GitUnreachable { blob } => format!("unreachable blob {}", short(blob)),
        }
    }

    /// The path relative to the scanned root, `/`-separated (a SARIF artifact URI).
    pub fn relative_path(&self) -> String {
        match self {
            Provenance::File { relative, .. } => relative.clone(),
            Provenance::Stdin => "stdin".to_string(),
            Provenance::GitBlob { path, .. } | Provenance::Staged { path } => path.clone(),
            Provenance::GitMessage { commit, tag: None } => format!("COMMIT_MSG/{}", commit.id),
            Provenance::GitMessage { tag: Some(tag), .. } => format!("TAG_MSG/{tag}"),
            Provenance::GitUnreachable { blob } => format!("UNREACHABLE/{blob}"),
        }
    }

    /// The commit this location belongs to, for git locations.
    pub fn commit(&self) -> Option<&Commit> {
        match self {
            Provenance::GitBlob { commit, .. } | Provenance::GitMessage { commit, .. } => {
                Some(commit)
            }
            _ => None,
        }
    }

    /// The kind of source, as reports name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::File { .. } => "file",
            Provenance::Stdin => "stdin",
            Provenance::GitBlob { .. } => "git",
            Provenance::GitMessage { tag: None, .. } => "git-commit-message",
            Provenance::GitMessage { tag: Some(_), .. } => "git-tag-message",
            Provenance::GitUnreachable { .. } => "git-unreachable",
            Provenance::Staged { .. } => "staged",
        }
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Formats seconds since the epoch as RFC 3339 in UTC (`2024-05-01T12:00:00Z`).
pub fn rfc3339(timestamp: i64) -> String {
    let days = timestamp.div_euclid(86_400);
    let secs = timestamp.rem_euclid(86_400);
    // Civil-from-days, after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
