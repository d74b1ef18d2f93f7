//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run; every rule in `tool.driver.rules` with `security-severity`; one result per location,
//! each with a `/`-separated, percent-encoded URI relative to the scanned root, 1-based
//! line and column (code points), and `partialFingerprints` that stay put when lines move.

use std::collections::BTreeMap;
use std::io;

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Location, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use sha2::{Digest, Sha256};

use super::Report;
use crate::finding::{Finding, Location as FindingLocation};
use crate::provenance::Provenance;
use crate::rules::{Rule, Severity};

/// The URI base every result's location is relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// Writes the SARIF log.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let rules: Vec<ReportingDescriptor> = report.rules.rules().iter().map(descriptor).collect();
    let driver = ToolComponent::builder()
        .name("keysweep")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/keysweep/keysweep")
        .rules(rules)
        .build();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .flat_map(|finding| finding.locations.iter().map(move |l| (finding, l)))
        .map(|(finding, location)| result(finding, location, report.show_secrets))
        .collect();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .build();
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match level(severity) {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

fn properties(values: BTreeMap<String, Value>, tags: Option<Vec<String>>) -> PropertyBag {
    match tags {
        Some(tags) => PropertyBag::builder().tags(tags).additional_properties(values).build(),
        None => PropertyBag::builder().additional_properties(values).build(),
    }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let syntax = &rule.syntax;
    let description = syntax.description.clone().unwrap_or_else(|| syntax.name.clone());
    let mut values = BTreeMap::new();
    values.insert("security-severity".into(), json!(format!("{:.1}", syntax.severity.score())));
    values.insert("precision".into(), json!("high"));
    let mut tags = vec!["security".to_string(), "secret".to_string()];
    tags.extend(syntax.category.clone());
    let help = MultiformatMessageString::builder().text(description.clone()).build();
    let mut builder = ReportingDescriptor::builder()
        .id(syntax.id.clone())
        .name(pascal_case(&syntax.id))
        .short_description(MultiformatMessageString::builder().text(syntax.name.clone()).build())
        .full_description(MultiformatMessageString::builder().text(description).build())
        .help(help)
        .default_configuration(
            ReportingConfiguration::builder().level(json!(level_name(syntax.severity))).build(),
        )
        .properties(properties(values, Some(tags)))
        .build();
    builder.help_uri = syntax.references.first().cloned();
    builder
}

fn result(finding: &Finding, location: &FindingLocation, show: bool) -> SarifResult {
    let relative = location.provenance.relative_path();
    let snippet = ArtifactContent::builder().text(location.snippet_text(show)).build();
    let (start, end) = super::file_region(location);
    let region = Region::builder()
        .start_line(start.0 as i64)
        .start_column(start.1 as i64)
        .end_line(end.0 as i64)
        .end_column(end.1 as i64)
        .snippet(snippet)
        .build();
    let artifact =
        ArtifactLocation::builder().uri(artifact_uri(&relative)).uri_base_id(SRCROOT).build();
    let physical = PhysicalLocation::builder().artifact_location(artifact).region(region).build();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("secret/v1".to_string(), finding.fingerprint.clone());
    fingerprints.insert("secretLocation/v1".to_string(), location_fingerprint(finding, &relative));
    let mut values = BTreeMap::new();
    values.insert("severity".into(), json!(finding.severity.as_str()));
    values.insert("fingerprint".into(), json!(finding.fingerprint));
    values.insert("secret".into(), json!(finding.secret.render(show)));
    values.insert("secretLength".into(), json!(finding.secret.len()));
    values.insert("pairedSecretKey".into(), json!(finding.secret_key.is_some()));
    // As in the JSON report: redacted unless `--show-secrets`, which must show the whole
    // credential, not only the key id.
    if let Some(key) = &finding.secret_key {
        values.insert("secretKey".into(), json!(key.render(show)));
    }
    if let Some(token) = &finding.session_token {
        values.insert("sessionToken".into(), json!(token.render(show)));
    }
    if let Some(account) = &finding.aws_account {
        values.insert("awsAccount".into(), json!(account));
    }
    if let Some(present) = finding.present_at_head {
        values.insert("presentAtHead".into(), json!(present));
    }
    enrichment_properties(finding, location, &mut values);
    image_properties(location.provenance.root(), &mut values);
    notebook_properties(location, &mut values);
    if let Some(encoding) = location.provenance.decoded() {
        // The region is the encoded text; this says what it was encoded with.
        values.insert("encoding".into(), json!(encoding));
    }
    if let Some(commit) = location.provenance.commit() {
        values.insert("commit".into(), json!(commit.id));
        values.insert("author".into(), json!(format!("{} <{}>", commit.author, commit.email)));
        values.insert("date".into(), json!(commit.date));
    }
    let text = format!(
        "{} {} found ({} location(s); fingerprint {})",
        finding.rule_name,
        finding.secret.redacted(),
        finding.locations.len(),
        finding.fingerprint
    );
    SarifResult::builder()
        .rule_id(finding.rule_id.clone())
        .rule_index(finding.rule.0 as i64)
        .level(level(finding.severity))
        .message(Message::builder().text(text).build())
        .locations(vec![Location::builder().physical_location(physical).build()])
        .partial_fingerprints(fingerprints)
        .properties(properties(values, None))
        .build()
}

/// The cell of a notebook location, and the line and column in the cell's text.
fn notebook_properties(location: &FindingLocation, values: &mut BTreeMap<String, Value>) {
    let Provenance::Notebook { cell, output, field, .. } = location.provenance.undecoded() else {
        return;
    };
    values.insert("cell".into(), json!(cell));
    values.insert("cellPart".into(), json!(if output.is_some() { "output" } else { "source" }));
    if let Some(output) = output {
        values.insert("outputIndex".into(), json!(output));
    }
    values.insert("cellField".into(), json!(field));
    values.insert("lineInCell".into(), json!(location.start.line));
    values.insert("columnInCell".into(), json!(location.start.column));
}

/// The image, platform and layer of an image location.
fn image_properties(provenance: &Provenance, values: &mut BTreeMap<String, Value>) {
    let Some(image) = provenance.image() else { return };
    values.insert("image".into(), json!(image.reference));
    values.insert("imageDigest".into(), json!(image.digest));
    if let Some(platform) = &image.platform {
        values.insert("platform".into(), json!(platform));
    }
    match provenance {
        Provenance::ImageFile {
            layer_index, layer_digest, created_by, removed_in, path, ..
        } => {
            // The path as written in the layer (`../x`, `/x`), which the URI normalises.
            values.insert("pathInLayer".into(), json!(path));
            values.insert("layerIndex".into(), json!(layer_index));
            values.insert("layerDigest".into(), json!(layer_digest));
            if let Some(created_by) = created_by {
                values.insert("createdBy".into(), json!(created_by));
            }
            if let Some(removed_in) = removed_in {
                values.insert("removedInLayer".into(), json!(removed_in));
            }
        }
        Provenance::ImageConfig { field, .. } => {
            values.insert("configField".into(), json!(field));
        }
        _ => {}
    }
}

/// Verification, owner and blast radius, and the result's own `security-severity` (the
/// computed severity; the rule's stays on the rule).
fn enrichment_properties(
    finding: &Finding,
    location: &FindingLocation,
    values: &mut BTreeMap<String, Value>,
) {
    values.insert("security-severity".into(), json!(format!("{:.1}", finding.severity.score())));
    if let Some(verification) = &finding.verification {
        values.insert("verification".into(), json!(verification));
    }
    if let Some(owner) = &finding.owner {
        values.insert("owner".into(), json!(owner));
        let shown = location.provenance.display_path();
        if let Some(owners) = owner.for_path(&shown) {
            values.insert("codeowners".into(), json!(owners.owners));
        }
    }
    if let Some(blast) = &finding.blast_radius {
        values.insert("blastRadius".into(), json!(blast));
    }
}

/// A fingerprint of (secret, path): stable when lines move, distinct per file.
fn location_fingerprint(finding: &Finding, relative: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(finding.fingerprint.as_bytes());
    hasher.update([0]);
    hasher.update(relative.as_bytes());
    crate::hex::lower(&hasher.finalize()[..16])
}

/// A relative path as an artifact URI code scanning accepts: in each archive level (split at
/// `!/`), `.` and empty segments are dropped and `..` resolved without leaving the level's
/// root, as an extractor rooted there would place the file (a layer's `../../etc/x` is the
/// image's `etc/x`); then percent-encoded. A path that resolves to nothing stays as it was.
fn artifact_uri(relative: &str) -> String {
    let levels: Vec<String> = relative
        .split("!/")
        .map(|level| {
            let mut kept: Vec<&str> = Vec::new();
            for segment in level.split('/') {
                match segment {
                    "" | "." => {}
                    ".." => {
                        kept.pop();
                    }
                    name => kept.push(name),
                }
            }
            kept.join("/")
        })
        .collect();
    if levels.iter().any(String::is_empty) {
        return percent_encode_path(relative);
    }
    percent_encode_path(&levels.join("!/"))
}

/// Percent-encodes a relative path for a URI, keeping `/` and RFC 3986 unreserved characters.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pascal_case(id: &str) -> String {
    id.split(['.', '-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn artifact_uris_stay_inside_their_root() {
        assert_eq!(artifact_uri("app/.env"), "app/.env");
        assert_eq!(artifact_uri("../../escape/.env"), "escape/.env");
        assert_eq!(artifact_uri("a/./b//c/../d"), "a/b/d");
        assert_eq!(artifact_uri("x.jar!/../../k.txt"), "x.jar%21/k.txt");
        assert_eq!(artifact_uri("config/Env[3]"), "config/Env%5B3%5D");
        assert_eq!(artifact_uri(".."), "..");
    }
}
