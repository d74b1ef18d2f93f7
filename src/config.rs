//! The user's `.keysweep.toml`: extra rules and allowlists.
//!
//! ```toml
//! [[rules]]            # same fields as rules/*.toml; examples are checked at load
//! id = "acme.api-key"
//! ...
//! [allowlist]
//! paths = ["tests/fixtures/**"]      # globs, relative to the scanned root
//! rules = ["jwt.token"]              # rule ids never reported
//! regexes = ['''^AKIA.*TESTKEY$''']  # matched against the secret
//! fingerprints = ["3f1c..."]         # findings accepted as known
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{parse_error::ParseError, rules::RuleSyntax};

/// The config file name looked for in the scanned root.
pub const CONFIG_FILE: &str = ".keysweep.toml";

/// The error returned by [`Config::load`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read config {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown fields.
    #[error("invalid config {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ParseError,
    },
}

/// A parsed config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// User rules, added after the built-in ones.
    #[serde(default)]
    pub rules: Vec<RuleSyntax>,
    /// What not to report.
    #[serde(default)]
    pub allowlist: AllowlistSyntax,
}

/// The `[allowlist]` table.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSyntax {
    /// Globs of paths (relative to the scanned root) never scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Rule ids never reported.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Regexes; a secret matching one is not reported.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Fingerprints of accepted findings.
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

impl Config {
    /// Reads and parses a config file.
    ///
    /// # Errors
    /// The file is unreadable or invalid; the error names it.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        Config::parse(&text, path)
    }

    /// Parses a config file's text; `path` names it in the error.
    ///
    /// # Errors
    /// The text is not a valid config.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            source: ParseError::toml(&e, text),
        })
    }
}
