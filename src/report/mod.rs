//! Report writers: text for a human, JSON/JSONL for machines, SARIF 2.1.0 for code scanning,
//! Markdown for a CI step summary, GitHub workflow commands for annotations, HTML for triage.
//!
//! Writers are given everything they print and write to a `dyn Write`; they never open files or
//! reach the network. Secrets are redacted unless the report says `show_secrets`.

pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::io;

use crate::finding::{Finding, Location};
use crate::provenance::Provenance;
use crate::rules::RuleSet;
use crate::scan::ScanStats;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human text, grouped by secret.
    Text,
    /// One JSON document.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// A Markdown table of findings (a GitHub Actions step summary).
    Markdown,
    /// GitHub Actions workflow commands: one annotation per location.
    Github,
    /// One self-contained HTML page for triage: summary charts and a filterable table.
    Html,
}

/// What a writer is given.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Findings, already sorted.
    pub findings: &'a [Finding],
    /// Counters.
    pub stats: &'a ScanStats,
    /// The rules that ran (SARIF lists them all).
    pub rules: &'a RuleSet,
    /// Print secrets in full.
    pub show_secrets: bool,
}

impl Report<'_> {
    /// Number of locations across findings.
    pub fn location_count(&self) -> usize {
        self.findings.iter().map(|f| f.locations.len()).sum()
    }
}

/// Writes the report in `format`. `color` applies to text only.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(
    report: &Report<'_>,
    format: Format,
    color: bool,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, color, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Github => github::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// Where a location's secret starts and ends in the file itself, as (line, column) pairs: a
/// notebook cell's location is moved from the cell's text to the `.ipynb` file.
pub(crate) fn file_region(location: &Location) -> ((usize, usize), (usize, usize)) {
    match location.provenance.undecoded() {
        Provenance::Notebook { file_start, file_end, .. } => (*file_start, *file_end),
        _ => {
            ((location.start.line, location.start.column), (location.end.line, location.end.column))
        }
    }
}

/// What verification said, in a few words: `live as ARN`, `invalid: ERROR`, `unknown: ...`,
/// `unverifiable: ...`, or `not verified` (no `--verify`, or a rule no verifier handles).
pub(crate) fn verification_text(finding: &Finding) -> String {
    use crate::verify::Outcome;
    let Some(verification) = &finding.verification else { return "not verified".to_string() };
    match &verification.outcome {
        Outcome::Live { arn, .. } => format!("live as {arn}"),
        Outcome::Invalid { error, .. } => format!("invalid: {error}"),
        Outcome::Unknown { reason } => format!("unknown: {reason}"),
        Outcome::Unverifiable { reason } => format!("unverifiable: {reason}"),
    }
}
