//! An image config's text fields, each scanned as its own small blob, so that a finding's line
//! and column are within the field: `config.Env[i]`, `config.Cmd`, `config.Entrypoint`,
//! `config.Labels.KEY` (scanned as `KEY=value`, so that a named-secret rule sees the name),
//! and every history entry's `created_by` and `comment` (`ENV KEY=value` instructions live
//! there, in entries that add no layer).

use oci_spec::image::ImageConfiguration;

use super::PlannedImage;
use crate::provenance::Provenance;
use crate::source::BlobSink;

/// Each layer's `created_by`: history entries with `empty_layer` set add no layer and are
/// skipped, so the n-th remaining entry describes the n-th layer.
pub fn layer_history(config: &ImageConfiguration) -> Vec<Option<String>> {
    config
        .history()
        .as_ref()
        .map(|history| {
            history
                .iter()
                .filter(|h| h.empty_layer() != Some(true))
                .map(|h| h.created_by().clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of a config worth scanning, with their names.
pub fn fields(config: &ImageConfiguration) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(c) = config.config() {
        for (i, env) in c.env().iter().flatten().enumerate() {
            out.push((format!("config.Env[{i}]"), env.clone()));
        }
        if let Some(cmd) = c.cmd().as_ref().filter(|v| !v.is_empty()) {
            out.push(("config.Cmd".into(), cmd.join(" ")));
        }
        if let Some(entrypoint) = c.entrypoint().as_ref().filter(|v| !v.is_empty()) {
            out.push(("config.Entrypoint".into(), entrypoint.join(" ")));
        }
        if let Some(labels) = c.labels() {
            let mut labels: Vec<(&String, &String)> = labels.iter().collect();
            labels.sort();
            for (key, value) in labels {
                out.push((format!("config.Labels.{key}"), format!("{key}={value}")));
            }
        }
    }
    for (i, entry) in config.history().iter().flatten().enumerate() {
        if let Some(created_by) = entry.created_by() {
            out.push((format!("history[{i}].created_by"), created_by.clone()));
        }
        if let Some(comment) = entry.comment() {
            out.push((format!("history[{i}].comment"), comment.clone()));
        }
    }
    out
}

/// Scans every field of the image's config (or the raw config when it could not be parsed).
pub fn scan_fields(image: &PlannedImage, sink: &mut impl BlobSink) {
    let provenance = |field: &str| Provenance::ImageConfig {
        image: image.info.clone(),
        field: field.to_string(),
    };
    if let Some(config) = &image.config {
        for (field, text) in fields(config) {
            if !text.is_empty() {
                sink.blob(text.as_bytes(), provenance(&field));
            }
        }
    } else if let Some(raw) = &image.raw_config {
        sink.blob(raw, provenance("config.json"));
    }
}
