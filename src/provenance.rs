//! Where a blob came from.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A git commit, as much of it as a responder needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Commit {
    /// Author time, seconds since the epoch (first, so that sorting puts the oldest first).
    pub timestamp: i64,
    /// Full hex id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
    /// The repository (URL or path as swept), for findings read back from a findings store,
    /// where many repositories' findings meet; `None` for a scan of one repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

impl Commit {
    /// The commit id shortened to 12 characters, as reports print it.
    pub fn short_id(&self) -> &str {
        short(&self.id)
    }
}

/// A container image as scanned: what the user named and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The reference as given (`oci:DIR:TAG`, `docker-archive:FILE`, `registry/repo:tag`).
    pub reference: String,
    /// The digest of the image manifest (`sha256:...`).
    pub digest: String,
    /// `os/arch[/variant]`, when known (from the index entry or the config).
    pub platform: Option<String>,
}

impl ImageInfo {
    /// `REFERENCE@sha256:abcdef123456` (the digest shortened), or the reference alone when it
    /// already names a digest.
    pub fn display(&self) -> String {
        if self.reference.contains('@') || self.digest.is_empty() {
            return self.reference.clone();
        }
        let (algorithm, hex) = self.digest.split_once(':').unwrap_or(("", &self.digest));
        format!("{}@{algorithm}:{}", self.reference, hex.get(..12).unwrap_or(hex))
    }
}

/// The origin of a scanned blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A file in a working tree.
    File {
        /// The path as walked (the root as given, joined with the relative part).
        path: String,
        /// The path relative to the scanned root, `/`-separated (for SARIF).
        relative: String,
    },
    /// Standard input.
    Stdin,
    /// A blob in git history, at the path where a commit introduced it.
    GitBlob {
        /// The commit that introduced the blob at this path.
        commit: Arc<Commit>,
        /// Path in the commit's tree.
        path: String,
        /// The blob id.
        blob: String,
    },
    /// A commit message, or an annotated tag's message.
    GitMessage {
        /// The commit (for a tag: the tagger and the tag object's id).
        commit: Arc<Commit>,
        /// The tag name, for a tag message.
        tag: Option<String>,
    },
    /// A blob in the object database that no ref reaches (`--all-objects`).
    GitUnreachable {
        /// The blob id.
        blob: String,
    },
    /// A file staged in the index (`--staged`).
    Staged {
        /// Path in the index.
        path: String,
    },
    /// A file in a container image layer.
    ImageFile {
        /// The image.
        image: Arc<ImageInfo>,
        /// 0-based index of the layer in the manifest.
        layer_index: usize,
        /// The layer's digest (compressed blob; for a legacy `docker save` archive, of the tar).
        layer_digest: String,
        /// The path as written in the layer tar (not normalised: `../x` and `/x` stay as is).
        path: String,
        /// `sha256:` of the file's content.
        blob: String,
        /// The config history's `created_by` for this layer (the Dockerfile instruction).
        created_by: Option<String>,
        /// The first later layer that deletes the file (whiteout) or replaces it: the file is
        /// not in the final filesystem but still in the image.
        removed_in: Option<usize>,
    },
    /// A field of a container image's config (`config.Env[3]`, `history[5].created_by`).
    ImageConfig {
        /// The image.
        image: Arc<ImageInfo>,
        /// The field, e.g. `config.Env[3]`, `config.Labels.KEY`, `history[5].created_by`.
        field: String,
    },
    /// A member of an archive (zip, jar, tar, gzip...) found at `parent`; nested archives nest.
    Nested {
        /// Where the archive is.
        parent: Box<Provenance>,
        /// The member's path inside that archive.
        member: String,
    },
    /// A build or CI log (`keysweep log`): lines are the log's, columns the cleaned line's.
    Log {
        /// The file as given, or `<stdin>`.
        name: String,
    },
    /// A cell of a Jupyter notebook at `parent`, its source or one of its outputs, scanned as
    /// its own text: a location's line and column are the cell text's.
    Notebook {
        /// Where the notebook is.
        parent: Box<Provenance>,
        /// 0-based cell index, as in nbformat.
        cell: usize,
        /// 0-based index in the cell's `outputs`; `None` for the cell's source.
        output: Option<usize>,
        /// The field read: `source`, `text`, `traceback`, or a `data` MIME type (`text/plain`).
        field: String,
        /// Where the secret starts in the notebook file itself: 1-based line and column.
        file_start: (usize, usize),
        /// Where the secret ends in the notebook file itself (column one past its end).
        file_end: (usize, usize),
    },
    /// Text decoded from an encoding inside the blob at `parent` (base64, JSON string escapes,
    /// percent-encoding, quoted-printable): a location's line and column are those of the
    /// encoded text in the parent.
    Decoded {
        /// Where the encoded text is.
        parent: Box<Provenance>,
        /// The encodings undone, outermost first: `base64`, `json`, `base64/json/base64`.
        encoding: String,
    },
}

impl Provenance {
    /// The path a human reads.
    pub fn display_path(&self) -> String {
        match self {
            Provenance::File { path, .. } => path.clone(),
            Provenance::Stdin => "<stdin>".to_string(),
            Provenance::GitBlob { path, .. } | Provenance::Staged { path } => path.clone(),
            Provenance::GitMessage { commit, tag: None } => {
                format!("commit {} message", short(&commit.id))
            }
            Provenance::GitMessage { tag: Some(tag), .. } => format!("tag {tag} message"),
            Provenance::GitUnreachable { blob } => format!("unreachable blob {}", short(blob)),
            Provenance::ImageFile { image, layer_index, path, .. } => {
                format!("{}/layer {layer_index}/{path}", image.display())
            }
            Provenance::ImageConfig { image, field } => format!("{}/{field}", image.display()),
            Provenance::Nested { parent, member } => {
                format!("{}!/{member}", parent.display_path())
            }
            Provenance::Log { name } => name.clone(),
            Provenance::Notebook { parent, .. } | Provenance::Decoded { parent, .. } => {
                parent.display_path()
            }
        }
    }

    /// The path relative to the scanned root, `/`-separated (a SARIF artifact URI).
    pub fn relative_path(&self) -> String {
        match self {
            Provenance::File { relative, .. } => relative.clone(),
            Provenance::Stdin => "stdin".to_string(),
            Provenance::GitBlob { path, .. } | Provenance::Staged { path } => path.clone(),
            Provenance::GitMessage { commit, tag: None } => format!("COMMIT_MSG/{}", commit.id),
            Provenance::GitMessage { tag: Some(tag), .. } => format!("TAG_MSG/{tag}"),
            Provenance::GitUnreachable { blob } => format!("UNREACHABLE/{blob}"),
            Provenance::ImageFile { path, .. } => layer_relative(path),
            Provenance::ImageConfig { field, .. } => {
                format!("config/{}", field.strip_prefix("config.").unwrap_or(field))
            }
            Provenance::Nested { parent, member } => {
                format!("{}!/{}", parent.relative_path(), member.trim_start_matches('/'))
            }
            Provenance::Log { name } if name == "<stdin>" => "stdin".to_string(),
            Provenance::Log { name } => {
                let name = name.replace('\\', "/");
                name.strip_prefix("./").map_or_else(|| name.clone(), str::to_string)
            }
            Provenance::Notebook { parent, .. } | Provenance::Decoded { parent, .. } => {
                parent.relative_path()
            }
        }
    }

    /// The commit this location belongs to, for git locations.
    pub fn commit(&self) -> Option<&Commit> {
        match self {
            Provenance::GitBlob { commit, .. } | Provenance::GitMessage { commit, .. } => {
                Some(commit)
            }
            Provenance::Nested { parent, .. }
            | Provenance::Notebook { parent, .. }
            | Provenance::Decoded { parent, .. } => parent.commit(),
            _ => None,
        }
    }

    /// The kind of source, as reports name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::File { .. } => "file",
            Provenance::Stdin => "stdin",
            Provenance::GitBlob { .. } => "git",
            Provenance::GitMessage { tag: None, .. } => "git-commit-message",
            Provenance::GitMessage { tag: Some(_), .. } => "git-tag-message",
            Provenance::GitUnreachable { .. } => "git-unreachable",
            Provenance::Staged { .. } => "staged",
            Provenance::ImageFile { .. } => "image",
            Provenance::ImageConfig { .. } => "image-config",
            Provenance::Nested { parent, .. }
            | Provenance::Notebook { parent, .. }
            | Provenance::Decoded { parent, .. } => parent.kind(),
            Provenance::Log { .. } => "log",
        }
    }

    /// The image this location belongs to, for image locations.
    pub fn image(&self) -> Option<&ImageInfo> {
        match self {
            Provenance::ImageFile { image, .. } | Provenance::ImageConfig { image, .. } => {
                Some(image)
            }
            Provenance::Nested { parent, .. }
            | Provenance::Notebook { parent, .. }
            | Provenance::Decoded { parent, .. } => parent.image(),
            _ => None,
        }
    }

    /// The outermost place: for an archive member, where the top-level archive is (for a
    /// notebook cell, where the notebook is, or its top-level archive); otherwise `self`.
    pub fn root(&self) -> &Provenance {
        let mut at = self;
        while let Provenance::Nested { parent, .. }
        | Provenance::Notebook { parent, .. }
        | Provenance::Decoded { parent, .. } = at
        {
            at = parent;
        }
        at
    }

    /// For decoded text: the encodings undone (`base64`, `base64/json/base64`).
    pub fn decoded(&self) -> Option<&str> {
        match self {
            Provenance::Decoded { encoding, .. } => Some(encoding),
            _ => None,
        }
    }

    /// This provenance without the decodings around it: where the encoded text is.
    pub fn undecoded(&self) -> &Provenance {
        let mut at = self;
        while let Provenance::Decoded { parent, .. } = at {
            at = parent;
        }
        at
    }

    /// For a notebook cell (decoded text in one too): `cell 3 source` or `cell 3 output 0`.
    pub fn notebook_cell(&self) -> Option<String> {
        match self.undecoded() {
            Provenance::Notebook { cell, output: None, .. } => Some(format!("cell {cell} source")),
            Provenance::Notebook { cell, output: Some(output), .. } => {
                Some(format!("cell {cell} output {output}"))
            }
            _ => None,
        }
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// A path inside a layer as a relative, `/`-separated path: leading `/` and `./` removed.
pub fn layer_relative(path: &str) -> String {
    let mut rest = path;
    loop {
        let next = rest.trim_start_matches('/');
        let next = next.strip_prefix("./").unwrap_or(next);
        if next == rest {
            return rest.to_string();
        }
        rest = next;
    }
}

/// Formats seconds since the epoch as RFC 3339 in UTC (`2024-05-01T12:00:00Z`).
pub fn rfc3339(timestamp: i64) -> String {
    let days = timestamp.div_euclid(86_400);
    let secs = timestamp.rem_euclid(86_400);
    // Civil-from-days, after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_and_facts_come_from_the_parent() {
        let file = Provenance::File { path: "./w/app.jar".into(), relative: "app.jar".into() };
        let inner =
            Provenance::Nested { parent: Box::new(file.clone()), member: "lib/a.zip".into() };
        let member = Provenance::Nested { parent: Box::new(inner), member: "/k.txt".into() };
        assert_eq!(member.display_path(), "./w/app.jar!/lib/a.zip!//k.txt");
        assert_eq!(member.relative_path(), "app.jar!/lib/a.zip!/k.txt");
        assert_eq!(member.kind(), "file");
        assert_eq!(member.root(), &file);
        assert!(member.commit().is_none() && member.image().is_none());
        let log = Provenance::Log { name: "./ci\\job.log".into() };
        assert_eq!(log.relative_path(), "ci/job.log");
        assert_eq!(Provenance::Log { name: "<stdin>".into() }.relative_path(), "stdin");
    }

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
