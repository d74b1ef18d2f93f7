//! Bare mirrors of remote repositories in the sweep cache, cloned and fetched with gix
//! (`file://`, local paths, `git://`, ssh and https): every ref, `+refs/*:refs/*`.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::AtomicBool;

use gix::remote::Direction;
use sha2::{Digest as _, Sha256};

use super::chain;

/// Refs fetched: all of them, forced, as `git clone --mirror` does.
const MIRROR_REFSPEC: &str = "+refs/*:refs/*";

/// The error returned when a repository cannot be mirrored.
#[derive(Debug, thiserror::Error)]
#[error("cannot fetch into {path}: {message}")]
pub struct Error {
    /// The repository as given.
    pub url: String,
    /// The mirror.
    pub path: PathBuf,
    /// Why (gix's error chain).
    pub message: String,
}

/// Where the mirror of `key` (a normalised URL) lives in `cache`: a readable tail of the URL
/// plus a hash, so two repositories never share a directory.
pub fn mirror_path(cache: &Path, key: &str) -> PathBuf {
    let hash = crate::hex::lower(&Sha256::digest(key.as_bytes())[..8]);
    let tail: String = key
        .rsplit('/')
        .next()
        .unwrap_or("repo")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(40)
        .collect();
    cache.join(format!("{tail}-{hash}.git"))
}

/// Clones `url` bare into `path`, or fetches into it when it is already there. `HEAD` follows
/// the remote's `HEAD`, so "still at HEAD" means the remote's default branch.
///
/// # Errors
/// The repository cannot be created, reached or read.
pub fn mirror(url: &str, path: &Path, interrupt: &AtomicBool) -> Result<(), Error> {
    let fail = |message: String| Error { url: url.to_string(), path: path.to_path_buf(), message };
    install_tls_provider();
    let existing = path.join("HEAD").is_file().then(|| gix::open(path).ok()).flatten();
    let repo = match existing {
        Some(repo) => repo,
        None => {
            // Nothing there, or a mirror a killed sweep left half-created: start afresh.
            if path.exists() {
                std::fs::remove_dir_all(path).map_err(|e| fail(e.to_string()))?;
            }
            std::fs::create_dir_all(path).map_err(|e| fail(e.to_string()))?;
            gix::init_bare(path).map_err(|e| fail(chain(&e)))?
        }
    };
    let remote = repo
        .remote_at(url)
        .map_err(|e| fail(chain(&e)))?
        .with_refspecs([MIRROR_REFSPEC], Direction::Fetch)
        .map_err(|e| fail(chain(&e)))?;
    let outcome = remote
        .connect(Direction::Fetch)
        .map_err(|e| fail(chain(&e)))?
        .prepare_fetch(
            gix::progress::Discard,
            // A server-side prefix derived from `refs/*` lists nothing; a mirror wants every
            // ref anyway.
            gix::remote::ref_map::Options {
                prefix_from_spec_as_filter_on_remote: false,
                ..Default::default()
            },
        )
        .map_err(|e| fail(chain(&e)))?
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| fail(chain(&e)))?;
    let head = outcome.ref_map.remote_refs.iter().find_map(|r| match r {
        gix::protocol::handshake::Ref::Symbolic { full_ref_name, target, .. }
            if full_ref_name == "HEAD" =>
        {
            Some(target.to_string())
        }
        _ => None,
    });
    if let Some(target) = head {
        // A bare repository's HEAD is this one line; writing it is what `git symbolic-ref`
        // does, without a process.
        std::fs::write(path.join("HEAD"), format!("ref: {target}\n"))
            .map_err(|e| fail(format!("cannot set HEAD: {e}")))?;
    }
    Ok(())
}

/// Makes ring the process's rustls crypto provider, once. gix's https transport (reqwest built
/// with `rustls-no-provider`, see Cargo.toml) takes the process default and panics on its
/// worker thread without one. A provider already installed is kept.
fn install_tls_provider() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Err means another provider got there first, which serves just as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A digest of every ref (name and target) of the repository at `path`: equal digests mean
/// nothing to scan.
///
/// # Errors
/// The refs cannot be read.
pub fn refs_digest(path: &Path) -> Result<String, String> {
    let repo = gix::open(path).map_err(|e| chain(&e))?;
    let platform = repo.references().map_err(|e| chain(&e))?;
    let mut refs: Vec<String> = platform
        .all()
        .map_err(|e| chain(&e))?
        .filter_map(Result::ok)
        .map(|r| {
            let target = r.target().try_id().map(|id| id.to_hex().to_string()).unwrap_or_default();
            format!("{} {target}", r.name().as_bstr())
        })
        .collect();
    if let Ok(head) = repo.head_name() {
        refs.push(format!("HEAD {}", head.map(|h| h.as_bstr().to_string()).unwrap_or_default()));
    }
    refs.sort();
    let digest = Sha256::digest(refs.join("\n").as_bytes());
    Ok(crate::hex::lower(&digest))
}
