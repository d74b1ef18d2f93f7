//! The store's tables, versioned with `PRAGMA user_version`: each entry of [`MIGRATIONS`]
//! upgrades from the version before it, so an old store opens in a new keysweep.

use std::path::Path;

use rusqlite::Connection;

use super::Error;

/// Version 1: runs, targets, scanned objects, findings, locations.
const V1: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    finished INTEGER,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE targets (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    last_run INTEGER REFERENCES runs(id),
    status TEXT,
    last_error TEXT,
    digest TEXT
);
CREATE TABLE run_targets (
    run INTEGER NOT NULL REFERENCES runs(id),
    target INTEGER NOT NULL REFERENCES targets(id),
    status TEXT NOT NULL,
    error TEXT,
    blobs_scanned INTEGER NOT NULL DEFAULT 0,
    blobs_skipped INTEGER NOT NULL DEFAULT 0,
    new_findings INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run, target)
);
CREATE TABLE blobs_scanned (
    target INTEGER NOT NULL REFERENCES targets(id),
    blob TEXT NOT NULL,
    run INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (target, blob)
) WITHOUT ROWID;
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    rule_id TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    severity TEXT NOT NULL,
    preview TEXT NOT NULL,
    secret_sha256 TEXT,
    secret_length INTEGER NOT NULL,
    key_preview TEXT,
    token_preview TEXT,
    aws_account TEXT,
    verification TEXT,
    verifier TEXT,
    verify_endpoint TEXT,
    owner_account TEXT,
    owner_account_source TEXT,
    owner_account_name TEXT,
    tier TEXT,
    principal TEXT,
    first_run INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run INTEGER NOT NULL REFERENCES runs(id),
    fixed_run INTEGER REFERENCES runs(id)
);
CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    finding INTEGER NOT NULL REFERENCES findings(id),
    target INTEGER NOT NULL REFERENCES targets(id),
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    key_line INTEGER,
    key_col INTEGER,
    commit_id TEXT,
    author TEXT,
    email TEXT,
    date TEXT,
    blob TEXT,
    provenance TEXT NOT NULL,
    snippet TEXT NOT NULL,
    codeowners TEXT,
    at_head INTEGER,
    first_run INTEGER NOT NULL REFERENCES runs(id),
    UNIQUE (finding, target, provenance, span_start)
);
CREATE INDEX locations_target ON locations(target);
CREATE INDEX locations_finding ON locations(finding);
";

/// Version 2: what `keysweep revoke` did to a finding's key, one row per attempt.
const V2: &str = "
CREATE TABLE revocations (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    key_preview TEXT NOT NULL,
    user_name TEXT,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX revocations_fingerprint ON revocations(fingerprint);
";

/// Every schema change, oldest first; the store's version is how many have run.
const MIGRATIONS: &[&str] = &[V1, V2];

/// Brings the database to the newest version.
pub(super) fn upgrade(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let sql =
        |source| Error::Sql { path: path.to_path_buf(), what: "upgrading the schema", source };
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sql)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(Error::Version { path: path.to_path_buf(), found: version, known });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1).map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}
