//! Enrichment after the scan, on findings only: suppression by allowlist and baseline, then
//! (in [`Enricher::apply`]) verification, owner, blast radius and the resulting severity.
//!
//! Nothing here slows the scan: it runs once the scan is done, on what it found. Only
//! verification and live blast-radius reads (both opt-in) reach the network.

pub mod accounts;
pub mod allowlist;
pub mod baseline;
pub mod blast;
pub mod codeowners;
pub mod owner;
pub mod severity;

use std::path::PathBuf;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::verify::{self, Verifier, VerifyOptions, VerifyStats};

/// Everything enrichment was configured with.
#[derive(Debug, Default)]
pub struct Enricher {
    /// `--verify`: the STS verifier and how to run it.
    pub verify: Option<(verify::aws::Sts, VerifyOptions)>,
    /// `--aws-accounts`.
    pub accounts: accounts::Accounts,
    /// `--aws-iam`, `--aws-access-keys`, `--blast-radius`.
    pub blast: blast::BlastSources,
    /// The repository `keysweep git` scanned (for its CODEOWNERS).
    pub git_repo: Option<PathBuf>,
}

/// What enrichment did.
#[derive(Debug, Default)]
pub struct EnrichStats {
    /// Verification, when it ran.
    pub verify: Option<VerifyStats>,
}

impl Enricher {
    /// Verifies (if asked), attributes owners, assesses blast radius, sets severities and
    /// orders the findings.
    pub fn apply(&self, findings: &mut [Finding], rules: &RuleSet) -> EnrichStats {
        let mut stats = EnrichStats::default();
        let mut credentials = verify::Credentials::new();
        let mut concurrency = VerifyOptions::default().concurrency;
        if let Some((sts, options)) = &self.verify {
            let verifiers: [&dyn Verifier; 1] = [sts];
            let (verify_stats, found) = verify::verify_findings(
                findings,
                |f| rules.get(f.rule).syntax.verify.clone(),
                &verifiers,
                options,
            );
            credentials = found;
            concurrency = options.concurrency;
            stats.verify = Some(verify_stats);
        }
        let mut lookup = owner::OwnerLookup::new(self.git_repo.clone());
        owner::attribute(findings, &mut lookup, &self.accounts);
        blast::assess(findings, &credentials, &self.blast, concurrency);
        severity::apply(findings);
        stats
    }
}
