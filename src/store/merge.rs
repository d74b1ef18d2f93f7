//! Folding other stores (sweep shards) and JSON reports into this one, deduplicated by
//! fingerprint: locations are unioned and the earliest first sighting is kept.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use super::record::sha256_hex;
use super::{Error, Store};
use crate::provenance::{Commit, Provenance};
use crate::redact::Secret;

/// What a merge added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Merged {
    /// Findings not in the store before.
    pub new_findings: u64,
    /// Locations not in the store before.
    pub new_locations: u64,
}

/// Columns copied as they are from a source store's `findings`.
const FINDING_COLUMNS: &str = "fingerprint, rule_id, rule_name, severity, preview, secret_sha256,
    secret_length, key_preview, token_preview, aws_account, verification, verifier,
    verify_endpoint, owner_account, owner_account_source, owner_account_name, tier, principal";

/// Columns copied as they are from a source store's `locations`.
const LOCATION_COLUMNS: &str = "kind, path, line, col, end_line, end_col, span_start, span_end,
    key_line, key_col, commit_id, author, email, date, blob, provenance, snippet, codeowners,
    at_head";

impl Store {
    /// Folds the store in `dir` into this one, in one transaction.
    ///
    /// # Errors
    /// `dir` holds no store, or a query fails (nothing of this merge is kept).
    pub fn merge_store(&self, dir: &Path) -> Result<Merged, Error> {
        let source = Store::open_existing(dir)?;
        let from = source.lock();
        let mut conn = self.lock();
        let sql = self.sql("merging a store");
        let tx = conn.transaction().map_err(&sql)?;
        let merged = copy_store(&from, &tx).map_err(|source_error| Error::Sql {
            path: source.path.clone(),
            what: "merging a store",
            source: source_error,
        })?;
        tx.commit().map_err(&sql)?;
        Ok(merged)
    }

    /// Folds a keysweep JSON report into this store as target `report:PATH`.
    ///
    /// # Errors
    /// The report does not parse as a keysweep JSON report, or a query fails.
    pub fn merge_report(&self, path: &Path, text: &str) -> Result<Merged, Error> {
        let report: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            what: "JSON report",
            message: e.to_string(),
        })?;
        let Some(findings) = report.get("findings").and_then(|f| f.as_array()) else {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                what: "JSON report",
                message: "no `findings` array".into(),
            });
        };
        let run = self.begin_run("report", &path.display().to_string())?;
        let target = self.target(&format!("report:{}", path.display()), "report")?;
        let mut conn = self.lock();
        let sql = self.sql("merging a report");
        let tx = conn.transaction().map_err(&sql)?;
        let mut merged = Merged::default();
        for finding in findings {
            copy_report_finding(&tx, run.0, target.0, finding, &mut merged).map_err(&sql)?;
        }
        tx.execute("UPDATE runs SET finished = started, status = 'ok' WHERE id = ?1", [run.0])
            .map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(merged)
    }
}

fn copy_store(from: &Connection, tx: &Transaction<'_>) -> rusqlite::Result<Merged> {
    let mut merged = Merged::default();
    let mut runs: HashMap<i64, i64> = HashMap::new();
    {
        let mut select =
            from.prepare("SELECT id, started, finished, kind, args, status FROM runs")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            tx.execute(
                "INSERT INTO runs (started, finished, kind, args, status) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?
                ],
            )?;
            runs.insert(row.get(0)?, tx.last_insert_rowid());
        }
    }
    let run = |id: Option<i64>| id.and_then(|id| runs.get(&id).copied());
    let mut targets: HashMap<i64, i64> = HashMap::new();
    {
        let mut select = from
            .prepare("SELECT id, url, kind, last_run, status, last_error, digest FROM targets")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let url: String = row.get(1)?;
            tx.execute(
                "INSERT INTO targets (url, kind, last_run, status, last_error, digest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(url) DO UPDATE SET
                    last_run = coalesce(excluded.last_run, last_run),
                    status = coalesce(excluded.status, status),
                    last_error = excluded.last_error, digest = excluded.digest
                 WHERE excluded.last_run IS NOT NULL",
                params![
                    url,
                    row.get::<_, String>(2)?,
                    run(row.get(3)?),
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?
                ],
            )?;
            let id: i64 =
                tx.query_row("SELECT id FROM targets WHERE url = ?1", [&url], |r| r.get(0))?;
            targets.insert(row.get(0)?, id);
        }
    }
    {
        let mut select = from.prepare("SELECT target, blob, run FROM blobs_scanned")?;
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO blobs_scanned (target, blob, run) VALUES (?1, ?2, ?3)",
        )?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            if let (Some(target), Some(run)) = (targets.get(&row.get(0)?), run(row.get(2)?)) {
                insert.execute(params![target, row.get::<_, String>(1)?, run])?;
            }
        }
    }
    {
        let mut select = from.prepare(
            "SELECT run, target, status, error, blobs_scanned, blobs_skipped, new_findings
             FROM run_targets",
        )?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            if let (Some(run), Some(target)) = (run(row.get(0)?), targets.get(&row.get(1)?)) {
                tx.execute(
                    "INSERT OR REPLACE INTO run_targets
                     (run, target, status, error, blobs_scanned, blobs_skipped, new_findings)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        run,
                        target,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<String>>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, i64>(5)?,
                        row.get::<_, i64>(6)?
                    ],
                )?;
            }
        }
    }
    let mut findings: HashMap<i64, i64> = HashMap::new();
    {
        let mut select = from.prepare(&format!(
            "SELECT id, first_run, last_seen_run, fixed_run, {FINDING_COLUMNS} FROM findings"
        ))?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let fingerprint: String = row.get(4)?;
            let (first, last, fixed) = (run(row.get(1)?), run(row.get(2)?), run(row.get(3)?));
            let existing: Option<i64> = tx
                .query_row("SELECT id FROM findings WHERE fingerprint = ?1", [&fingerprint], |r| {
                    r.get(0)
                })
                .optional()?;
            let id = match existing {
                Some(id) => {
                    fold_runs(tx, id, first, last, fixed)?;
                    id
                }
                None => {
                    let values: Vec<rusqlite::types::Value> =
                        (4..22).map(|i| row.get(i)).collect::<rusqlite::Result<_>>()?;
                    tx.execute(
                        &format!(
                            "INSERT INTO findings ({FINDING_COLUMNS}, first_run, last_seen_run,
                                fixed_run)
                             VALUES ({}, ?19, ?20, ?21)",
                            (1..=18).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
                        ),
                        rusqlite::params_from_iter(values.into_iter().chain([
                            first.into(),
                            last.into(),
                            fixed.into(),
                        ])),
                    )?;
                    merged.new_findings += 1;
                    tx.last_insert_rowid()
                }
            };
            findings.insert(row.get(0)?, id);
        }
    }
    {
        let mut select = from.prepare(&format!(
            "SELECT finding, target, first_run, {LOCATION_COLUMNS} FROM locations"
        ))?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let (Some(finding), Some(target)) =
                (findings.get(&row.get(0)?), targets.get(&row.get(1)?))
            else {
                continue;
            };
            let values: Vec<rusqlite::types::Value> =
                (3..22).map(|i| row.get(i)).collect::<rusqlite::Result<_>>()?;
            merged.new_locations += tx.execute(
                &format!(
                    "INSERT OR IGNORE INTO locations ({LOCATION_COLUMNS}, finding, target,
                        first_run)
                     VALUES ({}, ?20, ?21, ?22)",
                    (1..=19).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
                ),
                rusqlite::params_from_iter(values.into_iter().chain([
                    (*finding).into(),
                    (*target).into(),
                    run(row.get(2)?).into(),
                ])),
            )? as u64;
        }
    }
    Ok(merged)
}

/// Keeps the earliest first sighting and the latest last sighting; a finding open in either
/// store stays open.
fn fold_runs(
    tx: &Transaction<'_>,
    id: i64,
    first: Option<i64>,
    last: Option<i64>,
    fixed: Option<i64>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE findings SET
            first_run = CASE WHEN (SELECT started FROM runs WHERE id = ?2)
                                < (SELECT started FROM runs WHERE id = first_run)
                             THEN ?2 ELSE first_run END,
            last_seen_run = max(last_seen_run, coalesce(?3, last_seen_run)),
            fixed_run = CASE WHEN ?4 IS NULL OR fixed_run IS NULL THEN NULL
                             ELSE max(fixed_run, ?4) END
         WHERE id = ?1",
        params![id, first, last, fixed],
    )?;
    Ok(())
}

/// One finding of a JSON report: locations become git or file provenance.
fn copy_report_finding(
    tx: &Transaction<'_>,
    run: i64,
    target: i64,
    finding: &serde_json::Value,
    merged: &mut Merged,
) -> rusqlite::Result<()> {
    let text =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_str()).map(str::to_string);
    let number = |v: &serde_json::Value, key: &str| v.get(key).and_then(serde_json::Value::as_i64);
    let Some(fingerprint) = text(finding, "fingerprint") else { return Ok(()) };
    // A report written with --show-secrets holds the secret itself: keep only its hash and
    // redacted form. Redacting an already redacted value changes nothing.
    let secret = text(finding, "secret").unwrap_or_default();
    let redacted_already = secret.contains('*');
    let existing: Option<i64> = tx
        .query_row("SELECT id FROM findings WHERE fingerprint = ?1", [&fingerprint], |r| r.get(0))
        .optional()?;
    let id = match existing {
        Some(id) => id,
        None => {
            tx.execute(
                "INSERT INTO findings (fingerprint, rule_id, rule_name, severity, preview,
                    secret_sha256, secret_length, key_preview, token_preview, aws_account,
                    first_run, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                params![
                    fingerprint,
                    text(finding, "rule").unwrap_or_default(),
                    text(finding, "rule_name").unwrap_or_default(),
                    text(finding, "severity").unwrap_or_else(|| "medium".into()),
                    Secret::new(secret.as_bytes()).redacted(),
                    (!redacted_already).then(|| sha256_hex(&secret)),
                    number(finding, "secret_length").unwrap_or(0),
                    text(finding, "secret_key").map(|s| Secret::new(s.as_bytes()).redacted()),
                    text(finding, "session_token").map(|s| Secret::new(s.as_bytes()).redacted()),
                    text(finding, "aws_account"),
                    run,
                ],
            )?;
            merged.new_findings += 1;
            tx.last_insert_rowid()
        }
    };
    for location in finding.get("locations").and_then(|l| l.as_array()).into_iter().flatten() {
        let path = text(location, "path").unwrap_or_default();
        let relative = text(location, "relative_path").unwrap_or_else(|| path.clone());
        let commit = text(location, "commit");
        let provenance = match (&commit, text(location, "blob")) {
            (Some(id), Some(blob)) => Provenance::GitBlob {
                commit: std::sync::Arc::new(Commit {
                    timestamp: 0,
                    id: id.clone(),
                    author: text(location, "author").unwrap_or_default(),
                    email: text(location, "email").unwrap_or_default(),
                    date: text(location, "date").unwrap_or_default(),
                    repository: None,
                }),
                path: relative,
                blob,
            },
            _ => Provenance::File { path: path.clone(), relative },
        };
        let blob = match &provenance {
            Provenance::GitBlob { blob, .. } => Some(blob.clone()),
            _ => None,
        };
        merged.new_locations += tx.execute(
            "INSERT OR IGNORE INTO locations (finding, target, kind, path, line, col, end_line,
                end_col, span_start, span_end, key_line, key_col, commit_id, author, email, date,
                blob, provenance, snippet, first_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20)",
            params![
                id,
                target,
                provenance.kind(),
                path,
                number(location, "line").unwrap_or(1),
                number(location, "column").unwrap_or(1),
                number(location, "end_line").unwrap_or(1),
                number(location, "end_column").unwrap_or(1),
                number(location, "offset").unwrap_or(0),
                number(location, "offset").unwrap_or(0),
                number(location, "secret_key_line"),
                number(location, "secret_key_column"),
                commit,
                text(location, "author"),
                text(location, "email"),
                text(location, "date"),
                blob,
                serde_json::to_string(&provenance).unwrap_or_default(),
                scrub(text(location, "snippet").unwrap_or_default(), &secret, redacted_already),
                run,
            ],
        )? as u64;
    }
    Ok(())
}

/// A snippet from a report written with `--show-secrets`, with the secret redacted.
fn scrub(snippet: String, secret: &str, redacted_already: bool) -> String {
    if redacted_already || secret.is_empty() {
        return snippet;
    }
    snippet.replace(secret, &Secret::new(secret.as_bytes()).redacted())
}
