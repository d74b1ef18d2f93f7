//! `--baseline FILE`: a previous JSON report whose findings are not reported again.

use std::{collections::HashSet, path::Path};

use serde::Deserialize;

use crate::{finding::Finding, parse_error::ParseError};

/// The error returned by [`Baseline::load`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unreadable file.
    #[error("cannot read baseline {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a keysweep JSON report.
    #[error("baseline {path} is not a keysweep JSON report")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: ParseError,
    },
}

#[derive(Deserialize)]
struct ReportShape {
    findings: Vec<FindingShape>,
}

#[derive(Deserialize)]
struct FindingShape {
    fingerprint: String,
}

/// Fingerprints of findings already known.
#[derive(Debug, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Reads a JSON report (`--format json`).
    ///
    /// # Errors
    /// Unreadable or not a report; the error names the file.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let shown = path.display().to_string();
        let text =
            std::fs::read(path).map_err(|source| Error::Read { path: shown.clone(), source })?;
        let report: ReportShape = serde_json::from_slice(&text)
            .map_err(|e| Error::Parse { path: shown, source: ParseError::json(&e) })?;
        Ok(Baseline { fingerprints: report.findings.into_iter().map(|f| f.fingerprint).collect() })
    }

    /// True when the finding was in the baseline.
    pub fn contains(&self, finding: &Finding) -> bool {
        self.fingerprints.contains(&finding.fingerprint)
    }
}
