//! Container images: OCI layouts, `docker save` archives and registries.
//!
//! A scan has three phases:
//!
//! 1. **Plan** ([`plan`]): each REF is resolved to manifests (an index is narrowed to the
//!    platforms asked for), and each manifest's config is read, checked against its digest
//!    and parsed. Nothing here reads a layer.
//! 2. **Config**: the config's `Env`, `Cmd`, `Entrypoint`, `Labels` and every history entry's
//!    `created_by` are scanned as small text blobs, one per field.
//! 3. **Layers**: every distinct layer (by store and digest) is streamed, in parallel: blob
//!    reader → sha256 of the stored bytes → decompression (gzip, zstd or none: by media type,
//!    confirmed by magic bytes) → tar entries → each regular file, read whole but bounded by
//!    the size limit → the sink, which opens archives among them (a jar, a `.tar.gz`: members
//!    at `app.jar!/BOOT-INF/...`, within the archive budget). No layer is written to disk or
//!    held in memory, and a layer that expands like a decompression bomb is stopped (see
//!    `layer.rs`). Each distinct file content (by sha256) is scanned once across layers,
//!    platforms and images; every place it occurs is listed in [`ImageFacts`], which also
//!    records whiteouts so that a finding in a file a later layer deletes says so.
//!
//! Errors on one image, config or layer are reported to the sink as input errors, and the
//! scan goes on. A digest mismatch is reported after the layer was scanned: its findings stand.

mod config;
mod daemon;
mod facts;
mod layer;
mod plan;
mod reference;
mod registry;
mod store;
mod unix_http;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{BlobSink, InputError, archive::ArchiveOptions, error_chain};
pub use facts::ImageFacts;
pub use reference::{ImageRef, Platform};

/// How to read images.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// `--platform`: pick this platform from a multi-platform index.
    pub platform: Option<Platform>,
    /// `--all-platforms`: scan every platform of an index.
    pub all_platforms: bool,
    /// `--registry-auth USER:PASS`, overriding the Docker config's credentials.
    pub registry_auth: Option<(String, String)>,
    /// `--insecure-registry`: plain HTTP to registries.
    pub insecure_registry: bool,
    /// The Docker config file with `auths` (default `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Scan files that look binary.
    pub scan_binary: bool,
    /// How far archives found in layer files (a jar, a `.tar.gz`) are opened; also bounds how
    /// far a layer itself may expand (see `layer.rs`).
    pub archives: ArchiveOptions,
}

/// Why an image, a manifest, a config or a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// REF is none of the accepted forms.
    #[error("not an image reference {reference:?}: {why}")]
    Reference {
        /// As given.
        reference: String,
        /// Why.
        why: String,
    },
    /// A file of a layout or archive could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file (or archive member).
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A member the image needs is not in the layout or archive.
    #[error("{what} not found in {store}")]
    Missing {
        /// The blob or file.
        what: String,
        /// The layout or archive.
        store: String,
    },
    /// JSON that is not a manifest, index or config.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// What was read.
        what: String,
        /// Why.
        message: String,
    },
    /// Bytes that do not hash to the digest that names them.
    #[error("digest mismatch for {expected}: the content is {actual} ({size} bytes)")]
    Digest {
        /// The digest the manifest (or archive) gives.
        expected: String,
        /// The digest of the bytes read.
        actual: String,
        /// Bytes read.
        size: u64,
    },
    /// No platform of an index matches, or several do and none was chosen.
    #[error("{message}; the image has: {}", available.join(", "))]
    Platform {
        /// What went wrong.
        message: String,
        /// `os/arch[/variant]` of every image in the index.
        available: Vec<String>,
    },
    /// The registry refused the credentials, or wants some.
    #[error("registry {registry}: authentication failed (HTTP {status}): {message}")]
    Unauthorized {
        /// `host[:port]`.
        registry: String,
        /// 401 or 403.
        status: u16,
        /// What to do.
        message: String,
    },
    /// Any other HTTP answer that is not a success.
    #[error("registry {registry}: {url} answered HTTP {status}{}", detail_suffix(detail))]
    Status {
        /// `host[:port]`.
        registry: String,
        /// What was asked for.
        url: String,
        /// The status code.
        status: u16,
        /// The registry's error message, when it sent one.
        detail: String,
    },
    /// The Docker daemon could not hand over the image (`docker-daemon:`).
    #[error(transparent)]
    Daemon(#[from] daemon::Error),
    /// The registry could not be reached, or the connection broke.
    #[error("registry {registry}: {message}")]
    Http {
        /// `host[:port]`.
        registry: String,
        /// Why.
        message: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(": {detail}") }
}

/// Scans every image in `refs`, handing blobs to sinks made by `make_sink` (one per thread).
/// What could not be read is reported to a sink; the returned facts say where each scanned
/// content occurs (see [`ImageFacts::expand`]).
pub fn scan<S: BlobSink>(
    refs: &[ImageRef],
    options: &ImageOptions,
    make_sink: impl Fn() -> S + Sync,
) -> ImageFacts {
    let mut sink = make_sink();
    let mut stores = Vec::new();
    let mut images = Vec::new();
    for image_ref in refs {
        let name = image_ref.to_string();
        match plan::plan(image_ref, options) {
            Ok(plan) => {
                for error in plan.errors {
                    sink.error(InputError { input: name.clone(), message: error_chain(&error) });
                }
                let store_index = stores.len();
                stores.push(plan.store);
                images.extend(plan.images.into_iter().map(|image| (store_index, image)));
            }
            Err(error) => {
                sink.error(InputError { input: name.clone(), message: error_chain(&error) })
            }
        }
    }
    // Configs are small; errors reading them were reported while planning.
    for (_, image) in &mut images {
        image.errors.drain(..).for_each(|e| sink.error(e));
        config::scan_fields(image, &mut sink);
    }
    drop(sink);

    // Distinct layers (by store and blob), each streamed once.
    let mut jobs: Vec<layer::Job> = Vec::new();
    let mut job_of: HashMap<(usize, String), usize> = HashMap::new();
    let mut slots = Vec::with_capacity(images.len());
    for (store_index, image) in &images {
        let mut image_slots = Vec::with_capacity(image.layers.len());
        for (index, blob) in image.layers.iter().enumerate() {
            let job = *job_of.entry((*store_index, blob.key.clone())).or_insert_with(|| {
                jobs.push(layer::Job {
                    store: *store_index,
                    blob: blob.clone(),
                    image: image.info.clone(),
                    layer_index: index,
                    created_by: image.created_by.get(index).cloned().flatten(),
                });
                jobs.len() - 1
            });
            image_slots.push(facts::LayerSlot {
                job,
                digest: blob.digest.clone(),
                created_by: image.created_by.get(index).cloned().flatten(),
            });
        }
        slots.push((image.info.clone(), image_slots));
    }
    let seen = Mutex::new(std::collections::HashSet::new());
    let listings: Vec<layer::Listing> = jobs
        .par_iter()
        .map_init(&make_sink, |sink, job| {
            layer::scan(&stores[job.store], job, options, &seen, sink)
        })
        .collect();
    ImageFacts::new(slots, listings)
}

/// One image to scan, as planned.
#[derive(Debug)]
struct PlannedImage {
    info: Arc<crate::provenance::ImageInfo>,
    config: Option<oci_spec::image::ImageConfiguration>,
    /// The config's raw JSON, scanned whole when it could not be parsed.
    raw_config: Option<Vec<u8>>,
    layers: Vec<store::BlobRef>,
    /// `created_by` of each layer, from the config's history (empty layers skipped).
    created_by: Vec<Option<String>>,
    /// Errors met while planning this image (config unreadable, digest mismatch).
    errors: Vec<InputError>,
}

/// The manifest digests `image_ref` resolves to (one per platform scanned), without reading
/// any layer: a findings store skips an image whose digests it has already scanned.
///
/// # Errors
/// As planning a scan: no layout, archive, manifest or platform.
pub fn manifest_digests(
    image_ref: &ImageRef,
    options: &ImageOptions,
) -> Result<Vec<String>, Error> {
    let plan = plan::plan(image_ref, options)?;
    let mut digests: Vec<String> = plan.images.iter().map(|i| i.info.digest.clone()).collect();
    digests.sort();
    Ok(digests)
}
