//! JSON and JSON Lines: serialize-only wire types, so the on-disk shape is explicit.

use std::io;

use serde::Serialize;

use super::Report;
use crate::enrich::blast::BlastRadius;
use crate::enrich::owner::{Owner, PathOwners};
use crate::finding::{Finding, Location};
use crate::provenance::Provenance;
use crate::source::InputError;
use crate::verify::Verification;

/// Version of the JSON report's shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    findings: Vec<FindingWire<'a>>,
    errors: &'a [InputError],
    stats: Stats,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Stats {
    findings: usize,
    locations: usize,
    blobs_scanned: u64,
    bytes_scanned: u64,
    skipped_binary: u64,
    skipped_too_large: u64,
    skipped_allowlisted: u64,
    suppressed_inline: u64,
    suppressed: u64,
    errors: usize,
    elapsed_ms: u128,
}

#[derive(Serialize)]
struct FindingWire<'a> {
    rule: &'a str,
    rule_name: &'a str,
    severity: &'static str,
    fingerprint: &'a str,
    secret: String,
    secret_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    present_at_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    introduced: Option<Introduced<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a Owner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blast_radius: Option<&'a BlastRadius>,
    locations: Vec<LocationWire<'a>>,
}

/// Where a git leak began.
#[derive(Serialize)]
struct Introduced<'a> {
    commit: &'a str,
    path: String,
    author: &'a str,
    email: &'a str,
    date: &'a str,
}

#[derive(Serialize)]
struct LocationWire<'a> {
    source: &'static str,
    path: String,
    relative_path: String,
    /// The repository, for findings read from a findings store.
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_in_layer: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_field: Option<&'a str>,
    /// Notebook cells: the 0-based cell index; `line` and `column` are then the cell text's.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    notebook: Option<NotebookWire<'a>>,
    /// Decoded text: the encodings undone (`base64`, `json`, `base64/json/base64`); `line`
    /// and `column` are then the encoded text's in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'a str>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key_column: Option<usize>,
    /// CODEOWNERS' answer for this location's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    codeowners: Option<&'a PathOwners>,
    snippet: String,
}

/// Where in a notebook a location is.
#[derive(Serialize)]
struct NotebookWire<'a> {
    /// 0-based cell index.
    cell: usize,
    /// `source` or `output`.
    cell_part: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<usize>,
    /// `source`, `text`, `traceback` or a `data` MIME type.
    cell_field: &'a str,
    /// The secret's line and column in the notebook file itself.
    file_line: usize,
    file_column: usize,
}

fn notebook_wire(provenance: &Provenance) -> Option<NotebookWire<'_>> {
    match provenance.undecoded() {
        Provenance::Notebook { cell, output, field, file_start, .. } => Some(NotebookWire {
            cell: *cell,
            cell_part: if output.is_some() { "output" } else { "source" },
            output: *output,
            cell_field: field,
            file_line: file_start.0,
            file_column: file_start.1,
        }),
        _ => None,
    }
}

fn finding_wire<'a>(finding: &'a Finding, show: bool) -> FindingWire<'a> {
    FindingWire {
        rule: &finding.rule_id,
        rule_name: &finding.rule_name,
        severity: finding.severity.as_str(),
        fingerprint: &finding.fingerprint,
        secret: finding.secret.render(show),
        secret_length: finding.secret.len(),
        secret_key: finding.secret_key.as_ref().map(|s| s.render(show)),
        session_token: finding.session_token.as_ref().map(|s| s.render(show)),
        aws_account: finding.aws_account.as_deref(),
        present_at_head: finding.present_at_head,
        introduced: finding.introduced().and_then(|l| {
            let commit = l.provenance.commit()?;
            Some(Introduced {
                commit: &commit.id,
                path: l.provenance.display_path(),
                author: &commit.author,
                email: &commit.email,
                date: &commit.date,
            })
        }),
        verification: finding.verification.as_ref(),
        owner: finding.owner.as_ref(),
        blast_radius: finding.blast_radius.as_ref(),
        locations: finding
            .locations
            .iter()
            .map(|l| {
                let mut wire = location_wire(l, show);
                wire.codeowners = finding.owner.as_ref().and_then(|o| o.for_path(&wire.path));
                wire
            })
            .collect(),
    }
}

fn location_wire(location: &Location, show: bool) -> LocationWire<'_> {
    let commit = location.provenance.commit();
    let image = location.provenance.image();
    LocationWire {
        source: location.provenance.kind(),
        path: location.provenance.display_path(),
        relative_path: location.provenance.relative_path(),
        repository: commit.and_then(|c| c.repository.as_deref()),
        commit: commit.map(|c| c.id.as_str()),
        author: commit.map(|c| c.author.as_str()),
        email: commit.map(|c| c.email.as_str()),
        date: commit.map(|c| c.date.as_str()),
        blob: match location.provenance.root() {
            Provenance::GitBlob { blob, .. }
            | Provenance::GitUnreachable { blob }
            | Provenance::ImageFile { blob, .. } => Some(blob),
            _ => None,
        },
        image: image.map(|i| i.reference.as_str()),
        image_digest: image.map(|i| i.digest.as_str()),
        platform: image.and_then(|i| i.platform.as_deref()),
        layer_index: match location.provenance.root() {
            Provenance::ImageFile { layer_index, .. } => Some(*layer_index),
            _ => None,
        },
        layer_digest: match location.provenance.root() {
            Provenance::ImageFile { layer_digest, .. } => Some(layer_digest),
            _ => None,
        },
        created_by: match location.provenance.root() {
            Provenance::ImageFile { created_by, .. } => created_by.as_deref(),
            _ => None,
        },
        removed_in_layer: match location.provenance.root() {
            Provenance::ImageFile { removed_in, .. } => *removed_in,
            _ => None,
        },
        config_field: match location.provenance.root() {
            Provenance::ImageConfig { field, .. } => Some(field),
            _ => None,
        },
        notebook: notebook_wire(&location.provenance),
        encoding: location.provenance.decoded(),
        line: location.start.line,
        column: location.start.column,
        end_line: location.end.line,
        end_column: location.end.column,
        offset: location.span.start,
        secret_key_line: location.secret_key_at.map(|p| p.line),
        secret_key_column: location.secret_key_at.map(|p| p.column),
        codeowners: None,
        snippet: location.snippet_text(show),
    }
}

/// Writes one JSON document.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

/// The JSON report as one line: the HTML report embeds exactly this document, so both formats
/// redact the same way.
pub(crate) fn to_compact_string(report: &Report<'_>) -> serde_json::Result<String> {
    serde_json::to_string(&document(report))
}

fn document<'a>(report: &Report<'a>) -> Document<'a> {
    let stats = report.stats;
    Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "keysweep", version: env!("CARGO_PKG_VERSION") },
        findings: report.findings.iter().map(|f| finding_wire(f, report.show_secrets)).collect(),
        errors: &stats.errors,
        stats: Stats {
            findings: report.findings.len(),
            locations: report.location_count(),
            blobs_scanned: stats.blobs,
            bytes_scanned: stats.bytes,
            skipped_binary: stats.skipped_binary,
            skipped_too_large: stats.skipped_large,
            skipped_allowlisted: stats.skipped_allowlisted,
            suppressed_inline: stats.suppressed_inline,
            suppressed: stats.suppressed,
            errors: stats.errors.len(),
            elapsed_ms: stats.elapsed.as_millis(),
        },
    }
}

/// Writes one finding per line.
///
/// # Errors
/// Whatever the writer returns.
pub fn write_lines(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    for finding in report.findings {
        serde_json::to_writer(&mut *out, &finding_wire(finding, report.show_secrets))?;
        writeln!(out)?;
    }
    Ok(())
}
