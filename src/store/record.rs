//! Recording one target's scan: its objects, findings and locations, and which findings it
//! fixed, in one transaction.

use std::collections::HashSet;

use rusqlite::{OptionalExtension as _, Transaction, params};
use sha2::{Digest as _, Sha256};

use super::{Error, RunId, Store, TargetId};
use crate::finding::{Finding, Location};
use crate::provenance::Provenance;
use crate::scan::ScanResult;
use crate::source::git::RepoFacts;

/// What one scan of a target produced.
#[derive(Debug, Clone, Copy)]
pub struct Scanned<'a> {
    /// The findings (locations all in this target).
    pub findings: &'a [Finding],
    /// Objects read (blob and commit ids, image manifest digests): skipped next time.
    pub scanned_objects: &'a [String],
    /// Blob ids at `HEAD`, for git history: findings none of whose blobs are there are fixed.
    pub head_blobs: Option<&'a HashSet<String>>,
    /// Blobs read in this scan.
    pub blobs_scanned: u64,
    /// Blobs skipped because an earlier scan read them.
    pub blobs_skipped: u64,
    /// The target's refs or manifest digest, to skip it when unchanged.
    pub digest: Option<&'a str>,
}

impl<'a> Scanned<'a> {
    /// A git history scan. After an input error nothing is marked scanned and no digest is
    /// kept, so the retry reads the repository again (recorded findings and locations are not
    /// duplicated); no HEAD tree read (an unborn or broken HEAD) does not make every finding
    /// fixed.
    pub fn git(result: &'a ScanResult, facts: &'a RepoFacts, digest: Option<&'a str>) -> Self {
        let failed = !result.stats.errors.is_empty();
        Scanned {
            findings: &result.findings,
            scanned_objects: if failed { &[] } else { &facts.scanned_objects },
            head_blobs: (!facts.head_blobs.is_empty()).then_some(&facts.head_blobs),
            blobs_scanned: facts.blobs as u64,
            blobs_skipped: facts.blobs_skipped as u64,
            digest: if failed { None } else { digest },
        }
    }
}

/// What recording changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Findings first seen in this scan.
    pub new_findings: u64,
    /// Findings this scan marked fixed.
    pub fixed: u64,
}

impl Store {
    /// Records a target's scan in `run` in one transaction.
    ///
    /// # Errors
    /// The transaction fails (nothing of it is kept).
    pub fn record_scan(
        &self,
        run: RunId,
        target: TargetId,
        scanned: &Scanned<'_>,
    ) -> Result<Recorded, Error> {
        let mut conn = self.lock();
        let sql = self.sql("recording a scan");
        let tx = conn.transaction().map_err(&sql)?;
        let recorded = record(&tx, run, target, scanned).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(recorded)
    }

    /// Records that `target` could not be scanned in `run` (it is retried next time).
    ///
    /// # Errors
    /// The update fails.
    pub fn record_failure(&self, run: RunId, target: TargetId, error: &str) -> Result<(), Error> {
        let mut conn = self.lock();
        let sql = self.sql("recording a failure");
        let tx = conn.transaction().map_err(&sql)?;
        tx.execute(
            "UPDATE targets SET last_run = ?1, status = 'failed', last_error = ?2 WHERE id = ?3",
            params![run.0, error, target.0],
        )
        .map_err(&sql)?;
        tx.execute(
            "INSERT OR REPLACE INTO run_targets (run, target, status, error)
             VALUES (?1, ?2, 'failed', ?3)",
            params![run.0, target.0, error],
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// Records that `target` was unchanged since its last scan (`run` did not read it).
    ///
    /// # Errors
    /// The update fails.
    pub fn record_unchanged(&self, run: RunId, target: TargetId) -> Result<(), Error> {
        let conn = self.lock();
        conn.execute(
            "INSERT OR REPLACE INTO run_targets (run, target, status) VALUES (?1, ?2, 'ok')",
            params![run.0, target.0],
        )
        .map_err(self.sql("recording an unchanged target"))?;
        Ok(())
    }
}

fn record(
    tx: &Transaction<'_>,
    run: RunId,
    target: TargetId,
    scanned: &Scanned<'_>,
) -> rusqlite::Result<Recorded> {
    let mut recorded = Recorded::default();
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO blobs_scanned (target, blob, run) VALUES (?1, ?2, ?3)",
        )?;
        for id in scanned.scanned_objects {
            insert.execute(params![target.0, id, run.0])?;
        }
    }
    for finding in scanned.findings {
        let (id, new) = upsert_finding(tx, run, finding)?;
        recorded.new_findings += u64::from(new);
        for location in &finding.locations {
            insert_location(tx, run, target, id, finding, location, scanned.head_blobs)?;
        }
    }
    if let Some(head) = scanned.head_blobs {
        recorded.fixed = mark_head(tx, run, target, head)?;
    }
    tx.execute(
        "UPDATE targets SET last_run = ?1, status = 'ok', last_error = NULL, digest = ?2
         WHERE id = ?3",
        params![run.0, scanned.digest, target.0],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO run_targets
         (run, target, status, blobs_scanned, blobs_skipped, new_findings)
         VALUES (?1, ?2, 'ok', ?3, ?4, ?5)",
        params![
            run.0,
            target.0,
            scanned.blobs_scanned as i64,
            scanned.blobs_skipped as i64,
            recorded.new_findings as i64
        ],
    )?;
    Ok(recorded)
}

/// Inserts or refreshes a finding; returns its id and whether it is new.
fn upsert_finding(
    tx: &Transaction<'_>,
    run: RunId,
    finding: &Finding,
) -> rusqlite::Result<(i64, bool)> {
    let existing: Option<i64> = tx
        .query_row("SELECT id FROM findings WHERE fingerprint = ?1", [&finding.fingerprint], |r| {
            r.get(0)
        })
        .optional()?;
    let verification = finding
        .verification
        .as_ref()
        .map(|v| serde_json::to_string(&v.outcome).unwrap_or_default());
    let account = finding.owner.as_ref().and_then(|o| o.aws_account.as_ref());
    let blast = finding.blast_radius.as_ref();
    if let Some(id) = existing {
        // Enrichment is refreshed only when this run had it, so a plain rescan keeps an
        // earlier verification.
        tx.execute(
            "UPDATE findings SET last_seen_run = ?2,
                verification = coalesce(?3, verification),
                verifier = coalesce(?4, verifier),
                verify_endpoint = coalesce(?5, verify_endpoint),
                owner_account = coalesce(?6, owner_account),
                owner_account_source = coalesce(?7, owner_account_source),
                owner_account_name = coalesce(?8, owner_account_name),
                tier = coalesce(?9, tier),
                principal = coalesce(?10, principal),
                key_preview = coalesce(key_preview, ?11),
                token_preview = coalesce(token_preview, ?12)
             WHERE id = ?1",
            params![
                id,
                run.0,
                verification,
                finding.verification.as_ref().map(|v| &v.verifier),
                finding.verification.as_ref().and_then(|v| v.endpoint.as_ref()),
                account.map(|a| &a.id),
                account.map(|a| a.source),
                account.and_then(|a| a.name.as_ref()),
                blast.map(|b| b.tier.as_str()),
                blast.and_then(|b| b.principal.as_ref()),
                finding.secret_key.as_ref().map(|s| s.redacted()),
                finding.session_token.as_ref().map(|s| s.redacted()),
            ],
        )?;
        return Ok((id, false));
    }
    tx.execute(
        "INSERT INTO findings (fingerprint, rule_id, rule_name, severity, preview, secret_sha256,
            secret_length, key_preview, token_preview, aws_account, verification, verifier,
            verify_endpoint, owner_account, owner_account_source, owner_account_name, tier,
            principal, first_run, last_seen_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?19)",
        params![
            finding.fingerprint,
            finding.rule_id,
            finding.rule_name,
            finding.severity.as_str(),
            finding.secret.redacted(),
            sha256_hex(finding.secret.expose()),
            finding.secret.len() as i64,
            finding.secret_key.as_ref().map(|s| s.redacted()),
            finding.session_token.as_ref().map(|s| s.redacted()),
            finding.aws_account,
            verification,
            finding.verification.as_ref().map(|v| &v.verifier),
            finding.verification.as_ref().and_then(|v| v.endpoint.as_ref()),
            account.map(|a| &a.id),
            account.map(|a| a.source),
            account.and_then(|a| a.name.as_ref()),
            blast.map(|b| b.tier.as_str()),
            blast.and_then(|b| b.principal.as_ref()),
            run.0,
        ],
    )?;
    Ok((tx.last_insert_rowid(), true))
}

fn insert_location(
    tx: &Transaction<'_>,
    run: RunId,
    target: TargetId,
    finding_id: i64,
    finding: &Finding,
    location: &Location,
    head: Option<&HashSet<String>>,
) -> rusqlite::Result<()> {
    let provenance = &location.provenance;
    let commit = provenance.commit();
    let blob = blob_of(provenance);
    let at_head = head.zip(blob).map(|(head, blob)| head.contains(blob));
    let codeowners =
        finding.owner.as_ref().and_then(|o| o.for_path(&provenance.display_path())).map(|p| {
            serde_json::json!({
                "repo_path": p.repo_path, "owners": p.owners, "file": p.file,
                "pattern": p.pattern, "line": p.line,
            })
            .to_string()
        });
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO locations (finding, target, kind, path, line, col, end_line,
            end_col, span_start, span_end, key_line, key_col, commit_id, author, email, date,
            blob, provenance, snippet, codeowners, at_head, first_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22)",
    )?;
    insert.execute(params![
        finding_id,
        target.0,
        provenance.kind(),
        provenance.display_path(),
        location.start.line as i64,
        location.start.column as i64,
        location.end.line as i64,
        location.end.column as i64,
        location.span.start as i64,
        location.span.end as i64,
        location.secret_key_at.map(|p| p.line as i64),
        location.secret_key_at.map(|p| p.column as i64),
        commit.map(|c| &c.id),
        commit.map(|c| &c.author),
        commit.map(|c| &c.email),
        commit.map(|c| &c.date),
        blob,
        serde_json::to_string(provenance).unwrap_or_default(),
        location.snippet_text(false),
        codeowners,
        at_head,
        run.0,
    ])?;
    Ok(())
}

/// The git blob a location is in, if any.
pub(super) fn blob_of(provenance: &Provenance) -> Option<&str> {
    match provenance.root() {
        Provenance::GitBlob { blob, .. } => Some(blob),
        _ => None,
    }
}

/// Updates which of the target's locations are at `HEAD`, then each affected finding's fixed
/// state: fixed in `run` when none of its git blobs (in any target) is at `HEAD`; a finding
/// that is back at `HEAD` is open again. Returns how many became fixed.
fn mark_head(
    tx: &Transaction<'_>,
    run: RunId,
    target: TargetId,
    head: &HashSet<String>,
) -> rusqlite::Result<u64> {
    let rows: Vec<(i64, i64, String)> = {
        let mut select = tx.prepare_cached(
            "SELECT id, finding, blob FROM locations WHERE target = ?1 AND blob IS NOT NULL",
        )?;
        let rows = select.query_map([target.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut findings: HashSet<i64> = HashSet::new();
    {
        let mut update = tx.prepare_cached("UPDATE locations SET at_head = ?2 WHERE id = ?1")?;
        for (id, finding, blob) in &rows {
            update.execute(params![id, head.contains(blob)])?;
            findings.insert(*finding);
        }
    }
    let mut fixed = 0;
    for finding in &findings {
        let present: bool = tx.query_row(
            "SELECT count(*) > 0 FROM locations WHERE finding = ?1 AND at_head = 1",
            [finding],
            |r| r.get(0),
        )?;
        if present {
            tx.execute("UPDATE findings SET fixed_run = NULL WHERE id = ?1", [finding])?;
        } else {
            fixed += tx.execute(
                "UPDATE findings SET fixed_run = ?2 WHERE id = ?1 AND fixed_run IS NULL",
                params![finding, run.0],
            )? as u64;
        }
    }
    Ok(fixed)
}

/// Lowercase hex SHA-256 of a secret: lets a responder match a known secret against the
/// store without the store holding it.
pub fn sha256_hex(secret: &str) -> String {
    crate::hex::lower(&Sha256::digest(secret.as_bytes()))
}
