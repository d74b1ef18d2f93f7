//! A finding's severity after enrichment, and the order responders read findings in.
//!
//! The rule sets the starting severity (a paired AWS key is already critical). Then:
//! - `invalid` (the provider rejected the credential) → `low`;
//! - `live` → at least `high`; a live key that is admin, can escalate, reads data, or whose reach
//!   could not be read → `critical`;
//! - not verified but known (offline) to be admin or able to escalate → `critical`.
//!
//! Findings are then ordered: severity, live before unknown before unverified before invalid,
//! more powerful tiers first; otherwise the scan's order stays.

use crate::finding::Finding;
use crate::rules::Severity;
use crate::verify::Outcome;

use super::blast::Tier;

/// The severity a finding's verification and blast radius call for.
pub fn computed(finding: &Finding) -> Severity {
    let tier = finding.blast_radius.as_ref().map(|b| b.tier);
    match finding.verification.as_ref().map(|v| &v.outcome) {
        Some(Outcome::Invalid { .. }) => Severity::Low,
        Some(Outcome::Live { .. }) => {
            let raised = match tier {
                None | Some(Tier::Unknown | Tier::DataAccess) => Severity::Critical,
                Some(Tier::Admin | Tier::PrivilegeEscalation) => Severity::Critical,
                Some(Tier::Write | Tier::ReadOnly) => Severity::High,
            };
            finding.severity.max(raised)
        }
        _ => match tier {
            Some(Tier::Admin | Tier::PrivilegeEscalation) => Severity::Critical,
            _ => finding.severity,
        },
    }
}

fn liveness_rank(finding: &Finding) -> u8 {
    match finding.verification.as_ref().map(|v| &v.outcome) {
        Some(Outcome::Live { .. }) => 0,
        Some(Outcome::Unknown { .. }) => 1,
        None | Some(Outcome::Unverifiable { .. }) => 2,
        Some(Outcome::Invalid { .. }) => 3,
    }
}

/// Sets every finding's severity and sorts: most urgent first, otherwise in scan order.
pub fn apply(findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        finding.severity = computed(finding);
    }
    findings.sort_by_key(|f| {
        let tier = f.blast_radius.as_ref().map_or(Tier::Unknown, |b| b.tier);
        (std::cmp::Reverse(f.severity), liveness_rank(f), std::cmp::Reverse(tier))
    });
}
