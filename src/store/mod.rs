//! The findings store: an embedded SQLite database (`DIR/keysweep.db`) that remembers runs,
//! targets (repositories, images), the objects already scanned in each target, and findings
//! with their locations, so that later scans are incremental and `report` can answer
//! "what is new", "what was fixed", "whose is it" without scanning again.
//!
//! The store never holds a secret: a finding keeps its redacted preview and the SHA-256 of the
//! secret; snippets are stored redacted.
//!
//! One connection behind a mutex is the only writer; each target's results go in one
//! transaction, so parallel scans (a sweep's threads) are safe and an interrupted run leaves
//! only whole targets behind.

mod merge;
mod read;
mod record;
mod revocation;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension as _, params};

pub use merge::Merged;
pub use read::{Query, Since, TargetStatus};
pub use record::{Recorded, Scanned};
pub use revocation::{RevocationRow, StoredFinding};

/// The database file inside a store directory.
pub const DB_FILE: &str = "keysweep.db";

/// The error returned by store operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory or database cannot be opened or created.
    #[error("cannot open findings store {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// `report` or `merge` was pointed at a directory without a store.
    #[error("no findings store at {path}")]
    Missing {
        /// The database file looked for.
        path: PathBuf,
    },
    /// The directory cannot be created.
    #[error("cannot create findings store directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer keysweep.
    #[error("findings store {path} has schema version {found}; this keysweep knows up to {known}")]
    Version {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("findings store {path}: {what}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored value does not parse (a damaged or hand-edited store).
    #[error("findings store {path}: bad stored {what}: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which value.
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// A run's id (`runs.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

/// A target's id (`targets.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetId(pub i64);

/// What a target was at the end of its last scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetState {
    /// The run that last scanned it.
    pub last_run: Option<RunId>,
    /// `ok` or `failed` (`None`: never scanned).
    pub status: Option<String>,
    /// A digest of its refs (repositories) or manifest (images) when last scanned ok.
    pub digest: Option<String>,
}

/// An open findings store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, upgrading its schema.
    ///
    /// # Errors
    /// The directory cannot be created, the database cannot be opened, or it was written by a
    /// newer keysweep.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|source| Error::CreateDir { path: dir.to_path_buf(), source })?;
        let path = dir.join(DB_FILE);
        let open = |path: &Path| -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            // WAL: readers (`report` while a sweep runs) never block the writer.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            Ok(conn)
        };
        let mut conn = open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        schema::upgrade(&mut conn, &path)?;
        Ok(Store { conn: Mutex::new(conn), path })
    }

    /// Opens an existing store (no directory is created).
    ///
    /// # Errors
    /// As [`Store::open`], and when `dir` holds no store.
    pub fn open_existing(dir: &Path) -> Result<Store, Error> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(Error::Missing { path });
        }
        Store::open(dir)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back
        // on drop), so the poisoned connection is still usable.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sql(&self, what: &'static str) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sql { path: self.path.clone(), what, source }
    }

    /// Starts a run of `kind` (`git`, `sweep`, `merge`) with its arguments, for the record.
    ///
    /// # Errors
    /// The insert fails.
    pub fn begin_run(&self, kind: &str, args: &str) -> Result<RunId, Error> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO runs (started, kind, args, status) VALUES (?1, ?2, ?3, 'running')",
            params![now(), kind, args],
        )
        .map_err(self.sql("starting a run"))?;
        Ok(RunId(conn.last_insert_rowid()))
    }

    /// The latest run of `kind` with these arguments that never finished (killed), to resume.
    ///
    /// # Errors
    /// The query fails.
    pub fn unfinished_run(&self, kind: &str, args: &str) -> Result<Option<RunId>, Error> {
        self.lock()
            .query_row(
                "SELECT id FROM runs WHERE kind = ?1 AND args = ?2 AND status = 'running'
                 ORDER BY id DESC LIMIT 1",
                params![kind, args],
                |row| row.get(0).map(RunId),
            )
            .optional()
            .map_err(self.sql("looking for an unfinished run"))
    }

    /// Marks a run finished with `status` (`ok`, `failed`).
    ///
    /// # Errors
    /// The update fails.
    pub fn finish_run(&self, run: RunId, status: &str) -> Result<(), Error> {
        self.lock()
            .execute(
                "UPDATE runs SET finished = ?1, status = ?2 WHERE id = ?3",
                params![now(), status, run.0],
            )
            .map_err(self.sql("finishing a run"))?;
        Ok(())
    }

    /// The id of the target `url` (a normalised repository URL or an image reference),
    /// created if new.
    ///
    /// # Errors
    /// The insert fails.
    pub fn target(&self, url: &str, kind: &str) -> Result<TargetId, Error> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO targets (url, kind) VALUES (?1, ?2) ON CONFLICT(url) DO NOTHING",
            params![url, kind],
        )
        .map_err(self.sql("adding a target"))?;
        conn.query_row("SELECT id FROM targets WHERE url = ?1", [url], |row| row.get(0))
            .map(TargetId)
            .map_err(self.sql("adding a target"))
    }

    /// What `target` was at its last scan.
    ///
    /// # Errors
    /// The query fails.
    pub fn target_state(&self, target: TargetId) -> Result<TargetState, Error> {
        self.lock()
            .query_row(
                "SELECT last_run, status, digest FROM targets WHERE id = ?1",
                [target.0],
                |row| {
                    Ok(TargetState {
                        last_run: row.get::<_, Option<i64>>(0)?.map(RunId),
                        status: row.get(1)?,
                        digest: row.get(2)?,
                    })
                },
            )
            .map_err(self.sql("reading a target"))
    }

    /// True when `target` was recorded (ok or failed) in `run`: a resumed run skips it.
    ///
    /// # Errors
    /// The query fails.
    pub fn done_in_run(&self, run: RunId, target: TargetId) -> Result<bool, Error> {
        self.lock()
            .query_row(
                "SELECT 1 FROM run_targets WHERE run = ?1 AND target = ?2 AND status = 'ok'",
                params![run.0, target.0],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(self.sql("reading a run's targets"))
    }

    /// Ids of the objects (blobs, commits) already scanned in `target`.
    ///
    /// # Errors
    /// The query fails.
    pub fn known_objects(&self, target: TargetId) -> Result<Vec<String>, Error> {
        let conn = self.lock();
        let mut statement = conn
            .prepare_cached("SELECT blob FROM blobs_scanned WHERE target = ?1")
            .map_err(self.sql("reading scanned blobs"))?;
        let rows = statement
            .query_map([target.0], |row| row.get(0))
            .map_err(self.sql("reading scanned blobs"))?;
        rows.collect::<Result<_, _>>().map_err(self.sql("reading scanned blobs"))
    }

    /// [`Store::known_objects`] of a git target as object ids, for
    /// [`GitOptions::skip_objects`](crate::source::git::GitOptions::skip_objects) (an id that
    /// does not parse is left out).
    ///
    /// # Errors
    /// The query fails.
    pub fn known_git_objects(
        &self,
        target: TargetId,
    ) -> Result<std::collections::HashSet<gix::ObjectId>, Error> {
        let known = self.known_objects(target)?;
        Ok(known.iter().filter_map(|hex| gix::ObjectId::from_hex(hex.as_bytes()).ok()).collect())
    }

    /// The latest run that completed a target (a run that failed at the start, or only
    /// merged, does not count): what `--new` compares with.
    ///
    /// # Errors
    /// The query fails.
    pub fn latest_run(&self) -> Result<Option<RunId>, Error> {
        self.lock()
            .query_row("SELECT max(run) FROM run_targets WHERE status = 'ok'", [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .map(|id| id.map(RunId))
            .map_err(self.sql("reading runs"))
    }

    /// Counts for a summary: (targets, findings, locations, blobs scanned).
    ///
    /// # Errors
    /// The query fails.
    pub fn counts(&self) -> Result<(i64, i64, i64, i64), Error> {
        self.lock()
            .query_row(
                "SELECT (SELECT count(*) FROM targets), (SELECT count(*) FROM findings),
                        (SELECT count(*) FROM locations), (SELECT count(*) FROM blobs_scanned)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(self.sql("counting"))
    }
}

/// Seconds since the epoch.
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_refused_and_an_old_one_upgraded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("new store");
        let version: i64 =
            store.lock().pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
        assert_eq!(version, 2);
        store.lock().pragma_update(None, "user_version", 99).expect("set version");
        drop(store);
        match Store::open(dir.path()) {
            Err(Error::Version { found: 99, known: 2, .. }) => {}
            other => panic!("want a version error, got {other:?}"),
        }
    }

    #[test]
    fn runs_resume_only_with_the_same_arguments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let run = store.begin_run("sweep", "repos=/a").expect("run");
        assert_eq!(store.unfinished_run("sweep", "repos=/a").expect("query"), Some(run));
        assert_eq!(store.unfinished_run("sweep", "repos=/b").expect("query"), None);
        store.finish_run(run, "ok").expect("finish");
        assert_eq!(store.unfinished_run("sweep", "repos=/a").expect("query"), None);
        // Only a run that completed a target counts as the latest.
        assert_eq!(store.latest_run().expect("latest"), None);
        let target = store.target("/srv/r", "git").expect("target");
        store.record_unchanged(run, target).expect("record");
        store.begin_run("git", "/srv/r").expect("a run that failed at the start");
        assert_eq!(store.latest_run().expect("latest"), Some(run));
    }
}
