//! Where an image's blobs live: an OCI layout directory, a `docker save` tar, or a registry.
//! Every store hands out blobs as streams; only manifests and configs are read whole, and
//! those are bounded.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256, Sha512};

use super::Error;
use super::registry::Client;

/// Manifests, indexes and configs larger than this are refused (the distribution spec asks
/// registries to accept 4 MiB manifests; real configs are far smaller).
pub const JSON_LIMIT: u64 = 32 << 20;

/// A blob of an image: where to read it and what it must hash to.
#[derive(Debug, Clone)]
pub struct BlobRef {
    /// The store's key: a digest (layout, registry) or a member path (archive).
    pub key: String,
    /// `sha256:...`: what the content must hash to.
    pub digest: String,
    /// Whether `digest` covers the blob as stored or the decompressed tar (a legacy
    /// `docker save` names layers by their uncompressed digest only).
    pub verify: Verify,
    /// The media type, if known.
    pub media_type: String,
    /// The size, if the manifest gives one.
    pub size: Option<u64>,
}

/// What a blob's digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// The bytes as stored (OCI descriptors).
    Stored,
    /// The decompressed bytes (a legacy archive's layer, checked against the config's
    /// `rootfs.diff_ids`).
    Decompressed,
}

/// A source of blobs.
#[derive(Debug)]
pub enum Store {
    /// An OCI image layout directory.
    Dir(PathBuf),
    /// A tar archive, indexed once.
    Archive(Archive),
    /// A registry repository.
    Registry(Box<Client>),
}

impl Store {
    /// The key of the blob with this digest.
    pub fn key_for(&self, digest: &str) -> String {
        match self {
            Store::Archive(_) => match digest.split_once(':') {
                Some((algorithm, hex)) => format!("blobs/{algorithm}/{hex}"),
                None => digest.to_string(),
            },
            _ => digest.to_string(),
        }
    }

    /// Opens a blob as a stream.
    ///
    /// # Errors
    /// When the blob is missing or unreadable.
    pub fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, Error> {
        match self {
            Store::Dir(dir) => {
                let path = blob_path(dir, key)?;
                let file = File::open(&path).map_err(|source| match source.kind() {
                    io::ErrorKind::NotFound => Error::Missing {
                        what: format!("blob {key}"),
                        store: format!("OCI layout {}", dir.display()),
                    },
                    _ => Error::Io { path: path.display().to_string(), source },
                })?;
                Ok(Box::new(file))
            }
            Store::Archive(archive) => Ok(Box::new(archive.open(key)?)),
            Store::Registry(client) => client.blob(key),
        }
    }

    /// Reads a manifest or index by digest (a registry serves those on another endpoint).
    /// The caller checks the digest.
    ///
    /// # Errors
    /// When missing, unreadable or larger than [`JSON_LIMIT`].
    pub fn manifest(&self, digest: &str) -> Result<Vec<u8>, Error> {
        match self {
            Store::Registry(client) => Ok(client.manifest(digest)?.body),
            _ => self.read_json(&self.key_for(digest)),
        }
    }

    /// Reads a small JSON blob whole.
    ///
    /// # Errors
    /// When missing, unreadable or larger than [`JSON_LIMIT`].
    pub fn read_json(&self, key: &str) -> Result<Vec<u8>, Error> {
        read_limited(self.open(key)?, JSON_LIMIT, key)
    }

    /// A name for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Dir(dir) => format!("OCI layout {}", dir.display()),
            Store::Archive(archive) => format!("archive {}", archive.name),
            Store::Registry(client) => format!("registry {}", client.registry()),
        }
    }
}

/// Reads at most `limit` bytes; more is an error.
///
/// # Errors
/// On a read error or when the stream is longer than `limit`.
pub fn read_limited(reader: impl Read, limit: u64, what: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io { path: what.to_string(), source })?;
    if bytes.len() as u64 > limit {
        return Err(Error::Invalid {
            what: what.to_string(),
            message: format!("larger than {} MiB", limit >> 20),
        });
    }
    Ok(bytes)
}

/// `DIR/blobs/ALGORITHM/HEX`, refusing digests that could leave the directory.
fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, Error> {
    let invalid =
        || Error::Invalid { what: format!("digest {digest:?}"), message: "malformed".into() };
    let (algorithm, hex) = digest.split_once(':').ok_or_else(invalid)?;
    let safe = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+._-=".contains(&b))
    };
    if !safe(algorithm) || !safe(hex) || algorithm.starts_with('.') || hex.starts_with('.') {
        return Err(invalid());
    }
    Ok(dir.join("blobs").join(algorithm).join(hex))
}

/// A digest being computed, for the algorithms the OCI spec registers.
pub enum Hasher {
    /// `sha256:`
    Sha256(Sha256),
    /// `sha512:`
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for the algorithm of `digest` (`sha256` when it names none we know).
    pub fn for_digest(digest: &str) -> Hasher {
        if digest.starts_with("sha512:") {
            Hasher::Sha512(Sha512::new())
        } else {
            Hasher::Sha256(Sha256::new())
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// `algorithm:hex`.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex(&h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex(&h.finalize())),
        }
    }
}

pub use crate::hex::lower as hex;

/// Checks that `bytes` hash to `digest`.
///
/// # Errors
/// [`Error::Digest`] when they do not.
pub fn check_digest(digest: &str, bytes: &[u8]) -> Result<(), Error> {
    let mut hasher = Hasher::for_digest(digest);
    hasher.update(bytes);
    let actual = hasher.finish();
    if actual == digest {
        Ok(())
    } else {
        Err(Error::Digest { expected: digest.to_string(), actual, size: bytes.len() as u64 })
    }
}

/// Hashes and counts what passes through.
pub struct Hashing<R> {
    inner: R,
    hasher: Option<Hasher>,
    count: u64,
}

impl<R: Read> Hashing<R> {
    /// Hashes with `hasher`, or only counts when `None`.
    pub fn new(inner: R, hasher: Option<Hasher>) -> Hashing<R> {
        Hashing { inner, hasher, count: 0 }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The digest of what was read, if hashing.
    pub fn finish(self) -> Option<String> {
        self.hasher.map(Hasher::finish)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// A tar file with an index of its members, read by seeking (layers are members: a legacy
/// archive's `ID/layer.tar`, an OCI-flavoured one's `blobs/sha256/HEX`).
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    /// What messages call it: the path, or where a spooled archive came from.
    name: String,
    members: HashMap<String, (u64, u64)>,
    /// A stream copied to disk so that members can be read by seeking; removed on drop.
    _spool: Option<tempfile::NamedTempFile>,
}

/// The most a `docker save` stream is copied to disk: a stream that never ends (a hostile or
/// broken daemon, a wrong pipe) would otherwise fill the disk.
const MAX_SPOOL: u64 = 64 << 30;

impl Archive {
    /// Reads the archive's headers (seeking past the data).
    ///
    /// # Errors
    /// When the file cannot be read or is not a tar.
    pub fn index(path: &Path) -> Result<Archive, Error> {
        Archive::index_named(path, path.display().to_string(), None)
    }

    /// Copies a `docker save` stream (standard input, the Docker daemon's answer) to a
    /// temporary file and indexes that: layers are read by seeking, so the stream is never
    /// held in memory. `name` is what messages call the archive.
    ///
    /// # Errors
    /// When the temporary file cannot be written, the stream breaks, or it is not a tar.
    pub fn spool(stream: impl Read, name: &str) -> Result<Archive, Error> {
        let io_error = |source| Error::Io { path: name.to_string(), source };
        let mut spool = tempfile::Builder::new()
            .prefix("keysweep-image-")
            .suffix(".tar")
            .tempfile()
            .map_err(io_error)?;
        let copied =
            io::copy(&mut stream.take(MAX_SPOOL + 1), spool.as_file_mut()).map_err(io_error)?;
        if copied > MAX_SPOOL {
            return Err(Error::Invalid {
                what: format!("image stream {name}"),
                message: format!(
                    "larger than {} GiB; save it to a file and scan docker-archive:FILE",
                    MAX_SPOOL >> 30
                ),
            });
        }
        let path = spool.path().to_path_buf();
        Archive::index_named(&path, name.to_string(), Some(spool))
    }

    fn index_named(
        path: &Path,
        name: String,
        spool: Option<tempfile::NamedTempFile>,
    ) -> Result<Archive, Error> {
        let io_error = |source| Error::Io { path: name.clone(), source };
        let file = File::open(path).map_err(io_error)?;
        let mut tar = tar::Archive::new(file);
        let mut members = HashMap::new();
        for entry in tar.entries_with_seek().map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            members.insert(normalize(&name), (entry.raw_file_position(), entry.size()));
        }
        if members.is_empty() {
            return Err(Error::Invalid {
                what: format!("archive {name}"),
                message: "no files in it (not a tar?)".into(),
            });
        }
        Ok(Archive { path: path.to_path_buf(), name, members, _spool: spool })
    }

    /// Whether the archive has this member.
    pub fn has(&self, name: &str) -> bool {
        self.members.contains_key(&normalize(name))
    }

    /// Opens one member.
    ///
    /// # Errors
    /// When it is not in the archive or the file cannot be read.
    pub fn open(&self, name: &str) -> Result<io::Take<File>, Error> {
        let &(offset, size) = self.members.get(&normalize(name)).ok_or_else(|| Error::Missing {
            what: name.to_string(),
            store: format!("archive {}", self.name),
        })?;
        let io_error = |source| Error::Io { path: format!("{}:{name}", self.name), source };
        let mut file = File::open(&self.path).map_err(io_error)?;
        file.seek(SeekFrom::Start(offset)).map_err(io_error)?;
        Ok(file.take(size))
    }
}

/// An archive member's name without a leading `./` or `/`.
fn normalize(name: &str) -> String {
    crate::provenance::layer_relative(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_stay_inside_the_layout() {
        let dir = Path::new("/l");
        assert_eq!(blob_path(dir, "sha256:abc").ok(), Some(PathBuf::from("/l/blobs/sha256/abc")));
        for bad in ["sha256:../x", "../x:abc", "sha256", "sha256:", "sha256:a/b", ".:abc"] {
            assert!(blob_path(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests() {
        let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(check_digest(empty, b"").is_ok());
        assert!(matches!(check_digest(empty, b"x"), Err(Error::Digest { size: 1, .. })));
    }
}
