//! Reading findings back as [`Finding`] values, so every report writer works unchanged.
//!
//! Stored findings carry redacted secrets only: a rebuilt finding's secret is its redacted
//! preview (redaction is idempotent, so reports print the same text), and `--show-secrets`
//! cannot reveal what the store never kept.

use std::collections::HashMap;

use rusqlite::{Row, params_from_iter, types::Value};

use super::{Error, RunId, Store};
use crate::enrich::blast::{BlastRadius, Tier};
use crate::enrich::owner::{Author, AwsAccount, Owner, PathOwners};
use crate::finding::{Finding, Location, Position, SnippetPart};
use crate::matcher::Span;
use crate::provenance::Provenance;
use crate::redact::Secret;
use crate::rules::{RuleSet, Severity};
use crate::verify::{Outcome, Verification};

/// Which findings a report wants. Every filter set must match.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// First seen in or after this run (`--new`, `--since-run`, `--since`).
    pub since: Option<Since>,
    /// Only fixed findings (no longer at `HEAD`).
    pub fixed: bool,
    /// A CODEOWNERS owner, or the introducing commit's author name or e-mail.
    pub owner: Option<String>,
    /// AWS account id (from the key id, verification or owner lookup).
    pub account: Option<String>,
    /// Blast-radius tier (`admin`, `read-only`...).
    pub tier: Option<String>,
    /// Only locations in this target (a normalised repository URL or image reference).
    pub target: Option<String>,
}

/// Where "new" starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// First seen in this run or later.
    Run(RunId),
    /// First seen in a run started at or after this time (seconds since the epoch).
    Time(i64),
}

impl Store {
    /// The findings `query` selects, rebuilt with their locations (only the target's, when the
    /// query names one). Findings of rules `rules` does not have are skipped and their rule ids
    /// returned, so the caller can say so.
    ///
    /// # Errors
    /// A query fails or a stored value does not parse.
    pub fn findings(
        &self,
        query: &Query,
        rules: &RuleSet,
    ) -> Result<(Vec<Finding>, Vec<String>), Error> {
        let conn = self.lock();
        let sql = self.sql("reading findings");
        let (where_sql, args) = filter(query);
        let mut select = conn
            .prepare(&format!(
                "SELECT f.id, f.fingerprint, f.rule_id, f.rule_name, f.severity, f.preview,
                    f.key_preview, f.token_preview, f.aws_account, f.verification, f.verifier,
                    f.verify_endpoint, f.owner_account, f.owner_account_source,
                    f.owner_account_name, f.tier, f.principal
                 FROM findings f WHERE {where_sql} ORDER BY f.id"
            ))
            .map_err(&sql)?;
        let mut rows = select.query(params_from_iter(args.iter())).map_err(&sql)?;
        let mut findings = Vec::new();
        let mut ids = Vec::new();
        let mut unknown_rules = Vec::new();
        while let Some(row) = rows.next().map_err(&sql)? {
            let rule_id: String = row.get(2).map_err(&sql)?;
            let Some(rule) = rules.find(&rule_id) else {
                if !unknown_rules.contains(&rule_id) {
                    unknown_rules.push(rule_id);
                }
                continue;
            };
            ids.push(row.get::<_, i64>(0).map_err(&sql)?);
            findings.push(self.finding(row, rule, rule_id).map_err(&sql)??);
        }
        drop(rows);
        drop(select);
        let target = query.target.as_deref();
        for (finding, id) in findings.iter_mut().zip(&ids) {
            let located = locations(&conn, *id, target).map_err(&sql)?;
            let mut present = None;
            let mut codeowners = Vec::new();
            for (location, at_head, owners) in located {
                let location = location.map_err(|message| self.corrupt("provenance", message))?;
                if let Some(at_head) = at_head {
                    present = Some(present.unwrap_or(false) || at_head);
                }
                if let Some(owners) = owners {
                    codeowners.push(path_owners(&location, &owners));
                }
                finding.locations.push(location);
            }
            finding.present_at_head = present;
            finding.locations.sort_by(|a, b| {
                (&a.provenance, a.start, a.span).cmp(&(&b.provenance, b.start, b.span))
            });
            rebuild_owner(finding, codeowners);
        }
        findings.sort_by(|a, b| {
            let first = |f: &Finding| f.locations.first().map(|l| (l.provenance.clone(), l.start));
            (std::cmp::Reverse(a.severity), first(a), &a.rule_id, &a.fingerprint).cmp(&(
                std::cmp::Reverse(b.severity),
                first(b),
                &b.rule_id,
                &b.fingerprint,
            ))
        });
        Ok((findings, unknown_rules))
    }

    fn corrupt(&self, what: &'static str, message: String) -> Error {
        Error::Corrupt { path: self.path.clone(), what, message }
    }

    /// One `findings` row as a finding without locations.
    fn finding(
        &self,
        row: &Row<'_>,
        rule: crate::rules::RuleIdx,
        rule_id: String,
    ) -> rusqlite::Result<Result<Finding, Error>> {
        let severity: String = row.get(4)?;
        let Some(severity) = parse_severity(&severity) else {
            return Ok(Err(self.corrupt("severity", severity)));
        };
        let verification = match row.get::<_, Option<String>>(9)? {
            Some(json) => match serde_json::from_str::<Outcome>(&json) {
                Ok(outcome) => Some(Verification {
                    outcome,
                    verifier: row.get::<_, Option<String>>(10)?.unwrap_or_default(),
                    endpoint: row.get(11)?,
                    cached: true,
                }),
                Err(e) => return Ok(Err(self.corrupt("verification", e.to_string()))),
            },
            None => None,
        };
        let account = row.get::<_, Option<String>>(12)?.map(|id| AwsAccount {
            id,
            source: "key-id",
            key_id_decodes_to: None,
            name: None,
            email: None,
            status: None,
        });
        let account = match (account, row.get::<_, Option<String>>(13)?) {
            (Some(mut account), Some(source)) => {
                account.source = if source == "verification" { "verification" } else { "key-id" };
                account.name = row.get(14)?;
                Some(account)
            }
            (account, _) => account,
        };
        let blast = row.get::<_, Option<String>>(15)?.map(|tier| BlastRadius {
            tier: parse_tier(&tier),
            principal: None,
            sources: vec!["store"],
            policies: Vec::new(),
            services: Vec::new(),
            tier_actions: Vec::new(),
            allowed_actions: 0,
            could_not_read: Vec::new(),
            complete: false,
        });
        let blast = match blast {
            Some(mut blast) => {
                blast.principal = row.get(16)?;
                Some(blast)
            }
            None => None,
        };
        let owner = account.map(|account| Owner {
            codeowners: Vec::new(),
            introduced_by: None,
            aws_account: Some(account),
        });
        Ok(Ok(Finding {
            rule,
            rule_id,
            rule_name: row.get(3)?,
            severity,
            secret: Secret::new(row.get::<_, String>(5)?.as_bytes()),
            secret_key: row.get::<_, Option<String>>(6)?.map(|s| Secret::new(s.as_bytes())),
            session_token: row.get::<_, Option<String>>(7)?.map(|s| Secret::new(s.as_bytes())),
            aws_account: row.get(8)?,
            fingerprint: row.get(1)?,
            locations: Vec::new(),
            present_at_head: None,
            verification,
            owner,
            blast_radius: blast,
        }))
    }
}

/// A location, whether it is at `HEAD`, and its CODEOWNERS JSON.
type Located = (Result<Location, String>, Option<bool>, Option<String>);

fn locations(
    conn: &rusqlite::Connection,
    finding: i64,
    target: Option<&str>,
) -> rusqlite::Result<Vec<Located>> {
    let mut select = conn.prepare_cached(
        "SELECT l.provenance, l.line, l.col, l.end_line, l.end_col, l.span_start, l.span_end,
            l.key_line, l.key_col, l.snippet, l.at_head, l.codeowners, t.url
         FROM locations l JOIN targets t ON t.id = l.target
         WHERE l.finding = ?1 AND (?2 IS NULL OR t.url = ?2)",
    )?;
    let rows = select.query_map(rusqlite::params![finding, target], |row| {
        let provenance: String = row.get(0)?;
        let position = |line: usize, column: usize| -> rusqlite::Result<Position> {
            Ok(Position {
                line: row.get::<_, i64>(line)? as usize,
                column: row.get::<_, i64>(column)? as usize,
            })
        };
        let key_at = match (row.get::<_, Option<i64>>(7)?, row.get::<_, Option<i64>>(8)?) {
            (Some(line), Some(column)) => {
                Some(Position { line: line as usize, column: column as usize })
            }
            _ => None,
        };
        let start = position(1, 2)?;
        let end = position(3, 4)?;
        let span =
            Span { start: row.get::<_, i64>(5)? as usize, end: row.get::<_, i64>(6)? as usize };
        let snippet = vec![SnippetPart::Text(row.get(9)?)];
        let repository: String = row.get(12)?;
        let location = serde_json::from_str::<Provenance>(&provenance)
            .map(|mut provenance| {
                set_repository(&mut provenance, &repository);
                provenance
            })
            .map(|provenance| Location {
                provenance,
                span,
                start,
                end,
                secret_key_at: key_at,
                snippet,
            })
            .map_err(|e| e.to_string());
        Ok((location, row.get::<_, Option<bool>>(10)?, row.get(11)?))
    })?;
    rows.collect()
}

/// Names the repository in a git location's commit, so a report over many repositories says
/// which one each location is in.
fn set_repository(provenance: &mut Provenance, url: &str) {
    match provenance {
        Provenance::GitBlob { commit, .. } | Provenance::GitMessage { commit, .. } => {
            std::sync::Arc::make_mut(commit).repository = Some(url.to_string());
        }
        Provenance::Nested { parent, .. }
        | Provenance::Notebook { parent, .. }
        | Provenance::Decoded { parent, .. } => set_repository(parent, url),
        _ => {}
    }
}

fn path_owners(location: &Location, json: &str) -> PathOwners {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    PathOwners {
        path: location.provenance.display_path(),
        repo_path: text("repo_path").unwrap_or_default(),
        owners: value
            .get("owners")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|o| o.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        file: text("file").unwrap_or_default(),
        pattern: text("pattern"),
        line: value.get("line").and_then(serde_json::Value::as_u64).map(|l| l as usize),
    }
}

/// CODEOWNERS answers and the introducing author come back from the locations.
fn rebuild_owner(finding: &mut Finding, mut codeowners: Vec<PathOwners>) {
    codeowners.sort_by(|a, b| a.path.cmp(&b.path));
    codeowners.dedup_by(|a, b| a.path == b.path);
    let introduced_by = finding.introduced().and_then(|l| l.provenance.commit()).map(|c| Author {
        name: c.author.clone(),
        email: c.email.clone(),
        commit: c.id.clone(),
        date: c.date.clone(),
    });
    if codeowners.is_empty() && finding.owner.is_none() {
        return;
    }
    let owner = finding.owner.get_or_insert(Owner {
        codeowners: Vec::new(),
        introduced_by: None,
        aws_account: None,
    });
    owner.codeowners = codeowners;
    owner.introduced_by = introduced_by;
}

fn parse_severity(text: &str) -> Option<Severity> {
    [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical]
        .into_iter()
        .find(|s| s.as_str() == text)
}

fn parse_tier(text: &str) -> Tier {
    [Tier::ReadOnly, Tier::Write, Tier::DataAccess, Tier::PrivilegeEscalation, Tier::Admin]
        .into_iter()
        .find(|t| t.as_str() == text)
        .unwrap_or(Tier::Unknown)
}

/// The SQL condition and its parameters for a query.
fn filter(query: &Query) -> (String, Vec<Value>) {
    let mut conditions = vec!["1".to_string()];
    let mut args: Vec<Value> = Vec::new();
    let arg = |value: Value, args: &mut Vec<Value>| {
        args.push(value);
        format!("?{}", args.len())
    };
    match query.since {
        Some(Since::Run(run)) => {
            let p = arg(Value::Integer(run.0), &mut args);
            conditions.push(format!("f.first_run >= {p}"));
        }
        Some(Since::Time(time)) => {
            let p = arg(Value::Integer(time), &mut args);
            conditions
                .push(format!("(SELECT r.started FROM runs r WHERE r.id = f.first_run) >= {p}"));
        }
        None => {}
    }
    if query.fixed {
        conditions.push("f.fixed_run IS NOT NULL".into());
    }
    if let Some(owner) = &query.owner {
        let p = arg(Value::Text(owner.clone()), &mut args);
        let q = arg(Value::Text(format!("%\"{}\"%", owner.replace('"', ""))), &mut args);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM locations l WHERE l.finding = f.id
                AND (l.author = {p} OR l.email = {p} OR l.codeowners LIKE {q}))"
        ));
    }
    if let Some(account) = &query.account {
        let p = arg(Value::Text(account.clone()), &mut args);
        conditions.push(format!(
            "(f.aws_account = {p} OR f.owner_account = {p}
              OR json_extract(f.verification, '$.account') = {p})"
        ));
    }
    if let Some(tier) = &query.tier {
        let p = arg(Value::Text(tier.clone()), &mut args);
        conditions.push(format!("f.tier = {p}"));
    }
    if let Some(target) = &query.target {
        let p = arg(Value::Text(target.clone()), &mut args);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM locations l JOIN targets t ON t.id = l.target
                WHERE l.finding = f.id AND t.url = {p})"
        ));
    }
    (conditions.join(" AND "), args)
}

/// A target's state as `targets` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStatus {
    /// `ok` or `failed` (`None`: never scanned).
    pub status: Option<String>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

impl Store {
    /// Every target with its status and last error, by URL.
    ///
    /// # Errors
    /// The query fails.
    pub fn targets(&self) -> Result<HashMap<String, TargetStatus>, Error> {
        let conn = self.lock();
        let sql = self.sql("reading targets");
        let mut select =
            conn.prepare("SELECT url, status, last_error FROM targets").map_err(&sql)?;
        let rows = select
            .query_map([], |r| {
                Ok((r.get(0)?, TargetStatus { status: r.get(1)?, last_error: r.get(2)? }))
            })
            .map_err(&sql)?;
        rows.collect::<Result<_, _>>().map_err(&sql)
    }
}
