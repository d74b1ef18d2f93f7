//! From a REF to the images to scan: manifests found, indexes narrowed to the platforms asked
//! for, configs read and parsed. Layers are only listed here, never read.

use std::sync::Arc;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use serde::Deserialize;

use super::reference::{ImageRef, Platform};
use super::registry::Client;
use super::store::{Archive, BlobRef, JSON_LIMIT, Store, Verify, check_digest, hex, read_limited};
use super::{Error, ImageOptions, PlannedImage, config, daemon};
use crate::provenance::ImageInfo;
use crate::source::InputError;

/// Indexes nest (an index of indexes); deeper than this is refused.
const MAX_DEPTH: usize = 4;

/// What a REF resolved to.
pub struct Plan {
    /// Where the blobs are.
    pub store: Store,
    /// The images to scan.
    pub images: Vec<PlannedImage>,
    /// Manifests that could not be read; the other images are still scanned.
    pub errors: Vec<Error>,
}

/// Resolves one REF.
///
/// # Errors
/// When nothing of the image can be found: no layout, no archive, no manifest, no platform.
pub fn plan(image_ref: &ImageRef, options: &ImageOptions) -> Result<Plan, Error> {
    let reference = image_ref.to_string();
    match image_ref {
        ImageRef::OciDir { dir, tag } => {
            let store = Store::Dir(dir.clone());
            let path = dir.join("index.json");
            let file = std::fs::File::open(&path)
                .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
            let index = read_limited(file, JSON_LIMIT, &path.display().to_string())?;
            layout(store, &index, tag.as_deref(), reference, options)
        }
        ImageRef::DockerArchive { path } => {
            docker_archive(Archive::index(path)?, reference, options)
        }
        ImageRef::DockerArchiveStdin => {
            let archive = Archive::spool(std::io::stdin().lock(), "standard input")?;
            docker_archive(archive, reference, options)
        }
        ImageRef::DockerDaemon { name } => {
            let socket = daemon::socket(std::env::var("DOCKER_HOST").ok().as_deref())?;
            let archive = Archive::spool(daemon::save(&socket, name)?, &reference)?;
            docker_archive(archive, reference, options)
        }
        ImageRef::Registry(name) => {
            let client = Client::new(name, options);
            let wanted = name.digest().or(name.tag()).unwrap_or("latest");
            let fetched = client.manifest(wanted)?;
            let mut resolver = Resolver::new(Store::Registry(Box::new(client)), reference, options);
            if let Some(digest) = name.digest() {
                resolver.check(digest, &fetched.body);
            }
            resolver.document(
                &fetched.body,
                fetched.media_type.as_deref(),
                fetched.digest,
                None,
                0,
            )?;
            Ok(resolver.finish())
        }
    }
}

/// A `docker save` tar: an OCI layout inside (Docker 25+), else the legacy `manifest.json`.
fn docker_archive(
    archive: Archive,
    reference: String,
    options: &ImageOptions,
) -> Result<Plan, Error> {
    if archive.has("index.json") {
        let index = read_limited(archive.open("index.json")?, JSON_LIMIT, "index.json")?;
        layout(Store::Archive(archive), &index, None, reference, options)
    } else if archive.has("manifest.json") {
        legacy(archive, reference, options)
    } else {
        Err(Error::Missing {
            what: "index.json or manifest.json".into(),
            store: format!("{} (not a docker save archive?)", Store::Archive(archive).describe()),
        })
    }
}

/// An OCI image layout (a directory, or the OCI flavour of `docker save`): `index.json`
/// lists the images, named by `org.opencontainers.image.ref.name`.
fn layout(
    store: Store,
    index: &[u8],
    tag: Option<&str>,
    reference: String,
    options: &ImageOptions,
) -> Result<Plan, Error> {
    let index = ImageIndex::from_reader(index)
        .map_err(|e| Error::Invalid { what: "index.json".into(), message: e.to_string() })?;
    let mut entries: Vec<Descriptor> = index.manifests().clone();
    if let Some(tag) = tag {
        let names: Vec<String> =
            entries.iter().filter_map(|d| ref_name(d).map(str::to_string)).collect();
        entries.retain(|d| ref_name(d) == Some(tag));
        if entries.is_empty() {
            return Err(Error::Missing {
                what: format!("tag {tag:?} (tags: {})", names.join(", ")),
                store: store.describe(),
            });
        }
    }
    let mut resolver = Resolver::new(store, reference, options);
    resolver.entries(&entries, 0)?;
    Ok(resolver.finish())
}

fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    descriptor
        .annotations()
        .as_ref()
        .and_then(|a| a.get("org.opencontainers.image.ref.name"))
        .map(String::as_str)
}

/// Walks manifests and indexes.
struct Resolver<'a> {
    store: Store,
    reference: String,
    options: &'a ImageOptions,
    images: Vec<PlannedImage>,
    errors: Vec<Error>,
}

/// Just enough of a manifest or index to tell which it is.
#[derive(Deserialize)]
struct Sniff {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<serde::de::IgnoredAny>,
    layers: Option<serde::de::IgnoredAny>,
}

impl<'a> Resolver<'a> {
    fn new(store: Store, reference: String, options: &'a ImageOptions) -> Resolver<'a> {
        Resolver { store, reference, options, images: Vec::new(), errors: Vec::new() }
    }

    fn finish(self) -> Plan {
        Plan { store: self.store, images: self.images, errors: self.errors }
    }

    /// Records a digest mismatch (the content is used all the same).
    fn check(&mut self, digest: &str, bytes: &[u8]) {
        if let Err(e) = check_digest(digest, bytes) {
            self.errors.push(e);
        }
    }

    /// The entries of an index, narrowed to the platforms asked for.
    fn entries(&mut self, entries: &[Descriptor], depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::Invalid {
                what: "image index".into(),
                message: format!("indexes nested deeper than {MAX_DEPTH}"),
            });
        }
        for (descriptor, platform) in select(entries, self.options)? {
            let digest = descriptor.digest().to_string();
            let bytes = match self.store.manifest(&digest) {
                Ok(bytes) => bytes,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            self.check(&digest, &bytes);
            let media_type = descriptor.media_type().to_string();
            if let Err(e) = self.document(&bytes, Some(&media_type), digest, platform, depth + 1) {
                self.errors.push(e);
            }
        }
        Ok(())
    }

    /// A manifest or an index, told apart by media type or, lacking one, by shape.
    fn document(
        &mut self,
        bytes: &[u8],
        media_type: Option<&str>,
        digest: String,
        platform: Option<Platform>,
        depth: usize,
    ) -> Result<(), Error> {
        let invalid = |e: &dyn std::fmt::Display| Error::Invalid {
            what: format!("manifest {digest}"),
            message: e.to_string(),
        };
        let sniff: Sniff = serde_json::from_slice(bytes).map_err(|e| invalid(&e))?;
        let media_type = sniff.media_type.as_deref().or(media_type).unwrap_or("");
        let is_index = media_type.ends_with("image.index.v1+json")
            || media_type.ends_with("manifest.list.v2+json")
            || (sniff.manifests.is_some() && sniff.layers.is_none());
        if is_index {
            let index = ImageIndex::from_reader(bytes).map_err(|e| invalid(&e))?;
            return self.entries(index.manifests(), depth);
        }
        if media_type.contains("manifest.v1+prettyjws")
            || media_type.ends_with("manifest.v1+json") && sniff.layers.is_none()
        {
            return Err(invalid(&"Docker schema 1 manifests are not supported"));
        }
        let manifest = ImageManifest::from_reader(bytes).map_err(|e| invalid(&e))?;
        let image = self.image(&manifest, digest, platform)?;
        self.images.push(image);
        Ok(())
    }

    /// One image: its config read and parsed, its layers listed.
    fn image(
        &mut self,
        manifest: &ImageManifest,
        digest: String,
        platform: Option<Platform>,
    ) -> Result<PlannedImage, Error> {
        let config_digest = manifest.config().digest().to_string();
        let (config, raw_config, mut errors) =
            read_config(&self.store, &self.store.key_for(&config_digest), &config_digest);
        let platform = check_platform(platform, config.as_ref(), self.options)?;
        let info = Arc::new(ImageInfo { reference: self.reference.clone(), digest, platform });
        for error in &mut errors {
            error.input = format!("{} config", info.display());
        }
        let layers = manifest
            .layers()
            .iter()
            .map(|layer| BlobRef {
                key: self.store.key_for(layer.digest().as_ref()),
                digest: layer.digest().to_string(),
                verify: Verify::Stored,
                media_type: layer.media_type().to_string(),
                size: Some(layer.size()),
            })
            .collect();
        let created_by = config.as_ref().map(config::layer_history).unwrap_or_default();
        Ok(PlannedImage { info, config, raw_config, layers, created_by, errors })
    }
}

/// Reads, checks and parses a config; what goes wrong is returned as input errors (the
/// caller names the input), and a mismatching digest does not stop the config being used.
fn read_config(
    store: &Store,
    key: &str,
    digest: &str,
) -> (Option<ImageConfiguration>, Option<Vec<u8>>, Vec<InputError>) {
    let error = |e: &Error| InputError { input: String::new(), message: super::error_chain(e) };
    let bytes = match store.read_json(key) {
        Ok(bytes) => bytes,
        Err(e) => return (None, None, vec![error(&e)]),
    };
    let mut errors = Vec::new();
    if !digest.is_empty()
        && let Err(e) = check_digest(digest, &bytes)
    {
        errors.push(error(&e));
    }
    match ImageConfiguration::from_reader(&bytes[..]) {
        Ok(config) => (Some(config), None, errors),
        Err(e) => {
            errors.push(InputError {
                input: String::new(),
                message: format!("invalid config {digest}: {e} (scanned as raw JSON)"),
            });
            (None, Some(bytes), errors)
        }
    }
}

/// The image's platform (from the index entry, else the config), refused when `--platform`
/// asks for another.
fn check_platform(
    platform: Option<Platform>,
    config: Option<&ImageConfiguration>,
    options: &ImageOptions,
) -> Result<Option<String>, Error> {
    let from_config = config.map(|c| Platform {
        os: c.os().to_string(),
        arch: c.architecture().to_string(),
        variant: c.variant().clone().filter(|v| !v.is_empty()),
    });
    let chosen_by_index = platform.is_some();
    let platform = platform.or(from_config);
    if let (Some(wanted), false, Some(actual)) = (&options.platform, chosen_by_index, &platform)
        && !wanted.accepts(actual)
    {
        return Err(Error::Platform {
            message: format!("--platform {wanted} asked for"),
            available: vec![actual.to_string()],
        });
    }
    Ok(platform.map(|p| p.to_string()))
}

/// The entries of an index to follow: attestations dropped; of the platform-specific ones,
/// `--all-platforms` takes all, `--platform` the first that matches, and by default
/// linux/amd64 if present, else the only one. Entries without a platform are all taken.
fn select<'d>(
    entries: &'d [Descriptor],
    options: &ImageOptions,
) -> Result<Vec<(&'d Descriptor, Option<Platform>)>, Error> {
    let usable = entries.iter().filter(|d| !is_attestation(d));
    let (with, without): (Vec<&Descriptor>, Vec<&Descriptor>) =
        usable.partition(|d| d.platform().is_some());
    let mut chosen: Vec<(&Descriptor, Option<Platform>)> =
        without.into_iter().map(|d| (d, None)).collect();
    let platforms: Vec<(&Descriptor, Platform)> = with
        .into_iter()
        .filter_map(|d| d.platform().as_ref().map(|p| (d, Platform::from_oci(p))))
        .collect();
    if platforms.is_empty() {
        return Ok(chosen);
    }
    let available = || platforms.iter().map(|(_, p)| p.to_string()).collect::<Vec<_>>();
    let pick = if options.all_platforms {
        platforms.iter().collect()
    } else if let Some(wanted) = &options.platform {
        let found: Vec<_> = platforms.iter().filter(|(_, p)| wanted.accepts(p)).take(1).collect();
        if found.is_empty() {
            return Err(Error::Platform {
                message: format!("no image for --platform {wanted}"),
                available: available(),
            });
        }
        found
    } else {
        let amd64 = Platform { os: "linux".into(), arch: "amd64".into(), variant: None };
        let found: Vec<_> = platforms.iter().filter(|(_, p)| amd64.accepts(p)).take(1).collect();
        if !found.is_empty() {
            found
        } else if platforms.len() == 1 {
            platforms.iter().collect()
        } else {
            return Err(Error::Platform {
                message: "several platforms and no linux/amd64; choose with --platform OS/ARCH or \
                          scan all with --all-platforms"
                    .into(),
                available: available(),
            });
        }
    };
    chosen.extend(pick.into_iter().map(|(d, p)| (*d, Some(p.clone()))));
    Ok(chosen)
}

/// BuildKit's provenance and SBOM attestations sit in the index as `unknown/unknown`.
fn is_attestation(descriptor: &Descriptor) -> bool {
    let by_annotation = descriptor
        .annotations()
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest");
    let unknown = descriptor.platform().as_ref().is_some_and(|p| {
        p.os().to_string() == "unknown" && p.architecture().to_string() == "unknown"
    });
    by_annotation || unknown
}

/// One image of a legacy `docker save` archive's `manifest.json`.
#[derive(Deserialize)]
struct LegacyEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// A legacy `docker save` archive: `manifest.json` lists each image's config file and layer
/// tars; the config is named by its digest, each layer tar by the config's `rootfs.diff_ids`.
fn legacy(archive: Archive, reference: String, options: &ImageOptions) -> Result<Plan, Error> {
    let bytes = read_limited(archive.open("manifest.json")?, JSON_LIMIT, "manifest.json")?;
    let entries: Vec<LegacyEntry> = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid { what: "manifest.json".into(), message: e.to_string() })?;
    let store = Store::Archive(archive);
    let mut images = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let named = digest_in_name(&entry.config);
        let (config, raw_config, mut image_errors) =
            read_config(&store, &entry.config, named.as_deref().unwrap_or(""));
        let digest = match named {
            Some(digest) => digest,
            None => match store.read_json(&entry.config) {
                Ok(bytes) => {
                    use sha2::Digest as _;
                    format!("sha256:{}", hex(&sha2::Sha256::digest(&bytes)))
                }
                Err(_) => String::new(),
            },
        };
        let platform = match check_platform(None, config.as_ref(), options) {
            Ok(platform) => platform,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut shown = reference.clone();
        // `docker-daemon:app:1.0` already says what its archive's tag would.
        let tag = entry.repo_tags.as_ref().and_then(|t| t.first());
        if let Some(tag) = tag.filter(|tag| !reference.ends_with(&format!(":{tag}"))) {
            shown = format!("{reference} ({tag})");
        }
        let info = Arc::new(ImageInfo { reference: shown, digest, platform });
        for error in &mut image_errors {
            error.input = format!("{} config", info.display());
        }
        let diff_ids: Vec<String> =
            config.as_ref().map(|c| c.rootfs().diff_ids().clone()).unwrap_or_default();
        let layers = entry
            .layers
            .iter()
            .enumerate()
            .map(|(i, path)| match digest_in_name(path) {
                Some(digest) => BlobRef {
                    key: path.clone(),
                    digest,
                    verify: Verify::Stored,
                    media_type: String::new(),
                    size: None,
                },
                None => BlobRef {
                    key: path.clone(),
                    digest: diff_ids.get(i).cloned().unwrap_or_default(),
                    verify: Verify::Decompressed,
                    media_type: String::new(),
                    size: None,
                },
            })
            .collect();
        let created_by = config.as_ref().map(config::layer_history).unwrap_or_default();
        images.push(PlannedImage {
            info,
            config,
            raw_config,
            layers,
            created_by,
            errors: image_errors,
        });
    }
    Ok(Plan { store, images, errors })
}

/// `sha256:HEX` from `blobs/sha256/HEX` or `HEX.json`, when the name is a sha256 digest.
fn digest_in_name(name: &str) -> Option<String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.strip_suffix(".json").or_else(|| base.strip_suffix(".tar")).unwrap_or(base);
    (base.len() == 64 && base.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| format!("sha256:{base}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_names() {
        let hex = "a".repeat(64);
        assert_eq!(digest_in_name(&format!("blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name(&format!("{hex}.json")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name("abc/layer.tar"), None);
    }
}
