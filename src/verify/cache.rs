//! `--verify-cache FILE`: answers from earlier runs, so that a sweep does not ask again about a
//! credential it asked about minutes ago.
//!
//! The file is JSON: `{"version": 1, "entries": {KEY: {"checked_at": SECONDS, "outcome": ...}}}`,
//! where KEY is [`Credential::cache_key`](super::Credential::cache_key), a SHA-256 of the
//! credential. It never holds a secret: outcomes carry account, ARN, user id and error codes.
//! Entries older than the TTL are ignored and dropped on save. Only definite answers (`live`,
//! `invalid`) are stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Outcome;

/// Version of the file's shape.
const VERSION: u32 = 1;

/// The error returned by [`Cache::load`] and [`Cache::save`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file exists but cannot be read or written.
    #[error("verification cache {path}: {action}")]
    Io {
        /// The file.
        path: PathBuf,
        /// `cannot read` or `cannot write`.
        action: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a cache this version understands.
    #[error("verification cache {path} is not a keysweep cache file")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    checked_at: u64,
    outcome: Outcome,
}

/// The cache, loaded.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Cache {
    /// An empty cache that will be written to `path`.
    pub fn empty(path: &Path) -> Cache {
        Cache { path: path.to_path_buf(), entries: BTreeMap::new() }
    }

    /// Reads `path`; a missing file is an empty cache.
    ///
    /// # Errors
    /// The file cannot be read, or is not a cache file.
    pub fn load(path: &Path) -> Result<Cache, Error> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cache::empty(path)),
            Err(source) => {
                return Err(Error::Io { path: path.into(), action: "cannot read", source });
            }
        };
        let file: File = serde_json::from_slice(&bytes)
            .map_err(|source| Error::Parse { path: path.into(), source })?;
        if file.version != VERSION {
            return Ok(Cache::empty(path));
        }
        Ok(Cache { path: path.to_path_buf(), entries: file.entries })
    }

    /// The answer stored for `key`, if younger than `ttl`.
    pub fn get(&self, key: &str, now: SystemTime, ttl: Duration) -> Option<Outcome> {
        let entry = self.entries.get(key)?;
        let age = Duration::from_secs(seconds(now).saturating_sub(entry.checked_at));
        (age < ttl).then(|| entry.outcome.clone())
    }

    /// Stores an answer.
    pub fn put(&mut self, key: String, outcome: Outcome, now: SystemTime) {
        self.entries.insert(key, Entry { checked_at: seconds(now), outcome });
    }

    /// Drops entries older than `ttl`.
    pub fn prune(&mut self, now: SystemTime, ttl: Duration) {
        let now = seconds(now);
        self.entries.retain(|_, e| Duration::from_secs(now.saturating_sub(e.checked_at)) < ttl);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the file (a temporary file renamed over it, mode 0600 on Unix).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self) -> Result<(), Error> {
        let io = |source| Error::Io { path: self.path.clone(), action: "cannot write", source };
        let file = File { version: VERSION, entries: self.entries.clone() };
        let text = serde_json::to_vec_pretty(&file).expect("plain data serializes");
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut out = options.open(&tmp)?;
            out.write_all(&text)?;
            out.write_all(b"\n")?;
            out.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let now = SystemTime::now();
        let mut cache = Cache::load(&path).unwrap();
        assert!(cache.is_empty());
        let live = Outcome::Live { account: "1".into(), arn: "arn".into(), user_id: "u".into() };
        cache.put("k".into(), live.clone(), now - Duration::from_secs(30));
        cache.put("old".into(), live.clone(), now - Duration::from_secs(7200));
        cache.prune(now, Duration::from_secs(3600));
        cache.save().unwrap();
        let cache = Cache::load(&path).unwrap();
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("k", now, Duration::from_secs(3600)), Some(live));
        assert_eq!(cache.get("k", now, Duration::from_secs(10)), None);
    }
}
