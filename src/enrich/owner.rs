//! Who owns a leak: the CODEOWNERS owners of each path it was found at, the author of the commit
//! that introduced it, and the AWS account it opens (named from an Organizations export).
//!
//! Reads CODEOWNERS files (from the scanned tree, or for a bare repository from the tree of
//! `HEAD`) and nothing else; never reaches the network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::accounts::Accounts;
use super::codeowners::{CodeOwners, LOCATIONS};
use crate::finding::Finding;
use crate::provenance::Provenance;
use crate::verify::Outcome;

/// A finding's owners.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// CODEOWNERS owners, one entry per location path that a CODEOWNERS file covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codeowners: Vec<PathOwners>,
    /// The author of the commit that introduced the secret (git history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced_by: Option<Author>,
    /// The AWS account the credential belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<AwsAccount>,
}

impl Owner {
    /// The CODEOWNERS entry for a location's displayed path.
    pub fn for_path(&self, display_path: &str) -> Option<&PathOwners> {
        self.codeowners.iter().find(|p| p.path == display_path)
    }

    fn is_empty(&self) -> bool {
        self.codeowners.is_empty() && self.introduced_by.is_none() && self.aws_account.is_none()
    }
}

/// CODEOWNERS' answer for one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathOwners {
    /// The location's path as reports show it.
    pub path: String,
    /// The path relative to the repository root, as matched.
    pub repo_path: String,
    /// The owners; empty when no line matches or the last matching line names nobody.
    pub owners: Vec<String>,
    /// The CODEOWNERS file (`.github/CODEOWNERS`, or `HEAD:CODEOWNERS` from a bare repository).
    pub file: String,
    /// The deciding pattern, when a line matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Its 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// A commit author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The commit.
    pub commit: String,
    /// Author date.
    pub date: String,
}

/// The AWS account a credential opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsAccount {
    /// 12-digit id.
    pub id: String,
    /// `verification` (STS said so) or `key-id` (decoded offline: a hint).
    pub source: &'static str,
    /// When verification disagrees with the offline decoding, what the key id decoded to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id_decodes_to: Option<String>,
    /// Name, from `--aws-accounts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail of the account's root user, from `--aws-accounts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Status (`ACTIVE`, `SUSPENDED`), from `--aws-accounts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Finds and caches CODEOWNERS files for the paths of a run.
#[derive(Debug, Default)]
pub struct OwnerLookup {
    git_repo: Option<PathBuf>,
    /// Scanned root → (repository root, path of the root in it, CODEOWNERS file name, parsed).
    roots: HashMap<PathBuf, Option<Found>>,
    git: Option<Option<(String, CodeOwners)>>,
}

#[derive(Debug, Clone)]
struct Found {
    prefix: String,
    file: String,
    owners: CodeOwners,
}

impl OwnerLookup {
    /// A lookup; `git_repo` is the repository `keysweep git` scanned, if any.
    pub fn new(git_repo: Option<PathBuf>) -> OwnerLookup {
        OwnerLookup { git_repo, ..OwnerLookup::default() }
    }

    /// CODEOWNERS' answer for one location, if a CODEOWNERS file covers it.
    pub fn lookup(&mut self, provenance: &Provenance) -> Option<PathOwners> {
        match provenance {
            Provenance::File { path, relative } => {
                let root = root_of(path, relative);
                let found = self.roots.entry(root.clone()).or_insert_with(|| find_for_root(&root));
                let found = found.as_ref()?;
                let repo_path = if found.prefix.is_empty() {
                    relative.clone()
                } else {
                    format!("{}/{relative}", found.prefix)
                };
                Some(answer(path, repo_path, &found.file, &found.owners))
            }
            Provenance::GitBlob { path, .. } | Provenance::Staged { path } => {
                let repo = self.git_repo.clone()?;
                let (file, owners) =
                    self.git.get_or_insert_with(|| read_git_codeowners(&repo)).as_ref()?;
                Some(answer(path, path.clone(), file, owners))
            }
            Provenance::Notebook { parent, .. } | Provenance::Decoded { parent, .. } => {
                self.lookup(parent)
            }
            _ => None,
        }
    }
}

fn answer(path: &str, repo_path: String, file: &str, owners: &CodeOwners) -> PathOwners {
    let decision = owners.decide(&repo_path);
    PathOwners {
        path: path.to_string(),
        owners: decision.as_ref().map(|d| d.owners.to_vec()).unwrap_or_default(),
        pattern: decision.as_ref().map(|d| d.pattern.to_string()),
        line: decision.as_ref().map(|d| d.line),
        repo_path,
        file: file.to_string(),
    }
}

/// The scanned root a file was walked from: its path less the relative part.
fn root_of(path: &str, relative: &str) -> PathBuf {
    let root = path.strip_suffix(relative).unwrap_or("").trim_end_matches('/');
    PathBuf::from(if root.is_empty() { "." } else { root })
}

/// The CODEOWNERS file that governs `root`: in `root` itself, else in the enclosing work tree's
/// top directory (the nearest ancestor with `.git`), with the root's path in that tree.
fn find_for_root(root: &Path) -> Option<Found> {
    let root = std::fs::canonicalize(root).ok()?;
    for dir in root.ancestors() {
        if let Some((file, owners)) = read_codeowners_in(dir) {
            let prefix = root.strip_prefix(dir).ok()?;
            let prefix: Vec<String> =
                prefix.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            return Some(Found { prefix: prefix.join("/"), file, owners });
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

fn read_codeowners_in(dir: &Path) -> Option<(String, CodeOwners)> {
    LOCATIONS.iter().find_map(|name| {
        let text = std::fs::read(dir.join(name)).ok()?;
        Some((name.to_string(), CodeOwners::parse(&String::from_utf8_lossy(&text))))
    })
}

/// CODEOWNERS of a repository: from its work tree when it has one, else from `HEAD`'s tree.
fn read_git_codeowners(repo: &Path) -> Option<(String, CodeOwners)> {
    let repository = gix::open(repo).ok()?;
    if let Some(workdir) = repository.workdir() {
        return read_codeowners_in(workdir);
    }
    let tree = repository.head_commit().ok()?.tree().ok()?;
    LOCATIONS.iter().find_map(|name| {
        let entry = tree.lookup_entry_by_path(name).ok()??;
        let object = entry.object().ok()?;
        let text = String::from_utf8_lossy(&object.data).into_owned();
        Some((format!("HEAD:{name}"), CodeOwners::parse(&text)))
    })
}

/// Fills [`Finding::owner`] for every finding.
pub fn attribute(findings: &mut [Finding], lookup: &mut OwnerLookup, accounts: &Accounts) {
    for finding in findings {
        let mut owner = Owner::default();
        for location in &finding.locations {
            let shown = location.provenance.display_path();
            if owner.for_path(&shown).is_some() {
                continue;
            }
            if let Some(found) = lookup.lookup(&location.provenance) {
                owner.codeowners.push(found);
            }
        }
        owner.introduced_by =
            finding.introduced().and_then(|l| l.provenance.commit()).map(|c| Author {
                name: c.author.clone(),
                email: c.email.clone(),
                commit: c.id.clone(),
                date: c.date.clone(),
            });
        owner.aws_account = aws_account(finding, accounts);
        finding.owner = (!owner.is_empty()).then_some(owner);
    }
}

fn aws_account(finding: &Finding, accounts: &Accounts) -> Option<AwsAccount> {
    let verified = finding.verification.as_ref().and_then(|v| match &v.outcome {
        Outcome::Live { account, .. } => Some(account.clone()),
        _ => None,
    });
    let decoded = finding.aws_account.clone();
    let (id, source) = match (&verified, &decoded) {
        (Some(id), _) => (id.clone(), "verification"),
        (None, Some(id)) => (id.clone(), "key-id"),
        (None, None) => return None,
    };
    let named = accounts.get(&id);
    Some(AwsAccount {
        key_id_decodes_to: decoded.filter(|d| verified.as_ref().is_some_and(|v| v != d)),
        name: named.and_then(|a| a.name.clone()),
        email: named.and_then(|a| a.email.clone()),
        status: named.and_then(|a| a.status.clone()),
        id,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert_eq!(root_of("a/b/c.txt", "b/c.txt"), PathBuf::from("a"));
        assert_eq!(root_of("b/c.txt", "b/c.txt"), PathBuf::from("."));
        assert_eq!(root_of("/tmp/x/c.txt", "c.txt"), PathBuf::from("/tmp/x"));
    }
}
