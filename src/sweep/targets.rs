//! Sweep manifests: one repository URL, local path or image reference a line, `#` comments;
//! URL normalisation (one repository, one key, however it was written) and sharding.

use std::path::Path;

use sha2::{Digest as _, Sha256};

/// A shard of a sweep: the `index`-th (1-based) of `count` disjoint parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with 1 ≤ I ≤ N.
    ///
    /// # Errors
    /// Anything else, with what was expected.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(i, n)| {
            Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?))
        });
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Shard { index, count }),
            _ => Err(format!("wants I/N with 1 <= I <= N (e.g. 2/3), got {text:?}")),
        }
    }

    /// True when `key` (a normalised target) belongs to this shard: the first 8 bytes of its
    /// SHA-256, modulo the count. Stable across runs, machines and Rust versions.
    pub fn contains(&self, key: &str) -> bool {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index - 1
    }
}

/// The entries of a manifest: trimmed, without blank lines and `#` comments, in order,
/// duplicates (after normalisation) dropped.
pub fn parse_manifest(text: &str, normalise: impl Fn(&str) -> String) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| seen.insert(normalise(line)))
        .map(str::to_string)
        .collect()
}

/// The key a repository is stored and sharded under: scheme and host lowercased, a trailing
/// `/` and `.git` dropped, `user@host:path` (scp-like ssh) written as `ssh://user@host/path`,
/// and a local path made absolute (`file://` prefix removed).
pub fn normalise_repo(entry: &str) -> String {
    let entry = entry.trim();
    let trimmed = |rest: &str| -> String {
        let rest = rest.trim_end_matches('/');
        rest.strip_suffix(".git").unwrap_or(rest).trim_end_matches('/').to_string()
    };
    if let Some((scheme, rest)) = entry.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return local(rest);
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        return trimmed(&format!("{scheme}://{}/{path}", lowercase_host(host)));
    }
    if let Some((user_host, path)) = scp_like(entry) {
        return trimmed(&format!("ssh://{}/{}", lowercase_host(user_host), path));
    }
    local(entry)
}

/// `user@host:path`, as git reads it: a colon before any slash, and not a Windows drive.
fn scp_like(entry: &str) -> Option<(&str, &str)> {
    let (before, after) = entry.split_once(':')?;
    (!before.contains('/') && before.len() > 1).then_some((before, after.trim_start_matches('/')))
}

fn lowercase_host(host: &str) -> String {
    match host.rsplit_once('@') {
        Some((user, host)) => format!("{user}@{}", host.to_ascii_lowercase()),
        None => host.to_ascii_lowercase(),
    }
}

fn local(path: &str) -> String {
    let path = Path::new(path);
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = absolute.display().to_string();
    let text = text.trim_end_matches('/');
    text.strip_suffix("/.git").unwrap_or(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_to_one_key() {
        assert_eq!(
            normalise_repo("HTTPS://GitHub.com/Org/Repo.git/"),
            "https://github.com/Org/Repo"
        );
        assert_eq!(normalise_repo("git@GitHub.com:Org/Repo.git"), "ssh://git@github.com/Org/Repo");
        assert_eq!(normalise_repo("git://127.0.0.1:9418/r1.git"), "git://127.0.0.1:9418/r1");
        assert_eq!(normalise_repo("file:///srv/git/r1.git"), "/srv/git/r1.git");
        assert_eq!(normalise_repo("/srv/git/r1/.git"), "/srv/git/r1");
    }

    #[test]
    fn shards_partition_and_parse() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        for n in 0..100 {
            let key = format!("git://h/r{n}");
            assert_eq!(shards.iter().filter(|s| s.contains(&key)).count(), 1, "{key}");
        }
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn manifests_skip_comments_and_duplicates() {
        let text = "# repos\n\ngit://h/a.git\n  git://h/a  \n  # indented\ngit://h/b\n";
        assert_eq!(
            parse_manifest(text, normalise_repo),
            vec!["git://h/a.git".to_string(), "git://h/b".to_string()]
        );
    }
}
