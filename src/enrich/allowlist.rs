//! The `[allowlist]` of `.keysweep.toml`, compiled.

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::meta;

use crate::config::AllowlistSyntax;
use crate::finding::Finding;
use crate::redact::redact;

/// The error returned by [`Allowlist::new`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path glob does not parse.
    #[error("allowlist path {glob:?} is not a valid glob")]
    Glob {
        /// The glob.
        glob: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// A regex does not compile. An allowlist regex is often a literal secret, so the error
    /// shows it redacted and says why without quoting it (the regex error would).
    #[error("allowlist regex #{number} ({preview}) is invalid: {reason}")]
    Regex {
        /// Its 1-based position in `regexes`.
        number: usize,
        /// The regex, redacted.
        preview: String,
        /// Why, without the pattern.
        reason: String,
    },
}

/// Why a regex failed, with the column for a syntax error but never the pattern itself.
fn regex_reason(error: &meta::BuildError) -> String {
    let (kind, span) = match error.syntax_error() {
        Some(regex_syntax::Error::Parse(e)) => (e.kind().to_string(), *e.span()),
        Some(regex_syntax::Error::Translate(e)) => (e.kind().to_string(), *e.span()),
        _ => return error.to_string(),
    };
    format!("{kind} at column {}", span.start.column)
}

/// A compiled allowlist.
#[derive(Debug, Default)]
pub struct Allowlist {
    paths: Option<GlobSet>,
    rules: Vec<String>,
    regexes: Vec<meta::Regex>,
    fingerprints: Vec<String>,
}

impl Allowlist {
    /// Compiles the allowlist.
    ///
    /// # Errors
    /// A bad glob or regex, named.
    pub fn new(syntax: &AllowlistSyntax) -> Result<Allowlist, Error> {
        let paths = if syntax.paths.is_empty() {
            None
        } else {
            let mut builder = GlobSetBuilder::new();
            for glob in &syntax.paths {
                let parsed =
                    Glob::new(glob).map_err(|source| Error::Glob { glob: glob.clone(), source })?;
                builder.add(parsed);
            }
            Some(
                builder
                    .build()
                    .map_err(|source| Error::Glob { glob: syntax.paths.join(", "), source })?,
            )
        };
        let regexes = syntax
            .regexes
            .iter()
            .enumerate()
            .map(|(at, r)| {
                meta::Regex::new(r).map_err(|e| Error::Regex {
                    number: at + 1,
                    preview: redact(r),
                    reason: regex_reason(&e),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Allowlist {
            paths,
            rules: syntax.rules.clone(),
            regexes,
            fingerprints: syntax.fingerprints.clone(),
        })
    }

    /// The path globs, for sources to skip files without reading them.
    pub fn paths(&self) -> Option<&GlobSet> {
        self.paths.as_ref()
    }

    /// True when the finding is allowlisted by rule, secret regex or fingerprint.
    pub fn allows(&self, finding: &Finding) -> bool {
        self.rules.contains(&finding.rule_id)
            || self.fingerprints.contains(&finding.fingerprint)
            || self.regexes.iter().any(|r| r.is_match(finding.secret.expose()))
    }
}
