//! Report writers: text for a human, JSON/JSONL for machines, SARIF 2.1.0 for code scanning.
//!
//! Writers are given everything they print and write to a `dyn Write`; they never open files or
//! reach the network. Secrets are redacted unless the report says `show_secrets`.

pub mod json;
pub mod sarif;
pub mod text;

use std::io;

use crate::finding::Finding;
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
    }
}
