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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::blast::BlastRadius;
    use crate::redact::Secret;
    use crate::rules::RuleIdx;
    use crate::verify::Verification;

    fn finding(severity: Severity, outcome: Option<Outcome>, tier: Option<Tier>) -> Finding {
        Finding {
            rule: RuleIdx(0),
            rule_id: "aws.access-key-id".into(),
            rule_name: "AWS access key ID".into(),
            severity,
            secret: Secret::new(b"AKIAQYLPMN5HFIQEXAMQ"),
            secret_key: None,
            session_token: None,
            aws_account: None,
            fingerprint: String::new(),
            locations: Vec::new(),
            present_at_head: None,
            verification: outcome.map(|outcome| Verification {
                outcome,
                verifier: "aws-sts".into(),
                endpoint: None,
                cached: false,
            }),
            owner: None,
            blast_radius: tier.map(|tier| BlastRadius {
                tier,
                principal: None,
                sources: vec!["export"],
                policies: Vec::new(),
                services: Vec::new(),
                tier_actions: Vec::new(),
                allowed_actions: 0,
                could_not_read: Vec::new(),
                complete: true,
            }),
        }
    }

    fn live() -> Option<Outcome> {
        Some(Outcome::Live { account: "1".into(), arn: "a".into(), user_id: "u".into() })
    }
    fn invalid() -> Option<Outcome> {
        Some(Outcome::Invalid { error: "InvalidClientTokenId".into(), message: String::new() })
    }
    fn unknown() -> Option<Outcome> {
        Some(Outcome::Unknown { reason: "timed out".into() })
    }
    fn unverifiable() -> Option<Outcome> {
        Some(Outcome::Unverifiable { reason: "no secret".into() })
    }

    /// Severity follows verification both ways: `invalid` lowers to low whatever the rule or
    /// tier, `live` raises by tier, `unknown` and `unverifiable` keep the rule's severity
    /// (raised only by an offline admin or escalation tier).
    #[test]
    fn severity_follows_verification_both_ways() {
        use Severity::{Critical, High, Low, Medium};
        let table = [
            (Critical, invalid(), None, Low),
            (Critical, invalid(), Some(Tier::Admin), Low),
            (High, invalid(), None, Low),
            (Medium, live(), Some(Tier::ReadOnly), High),
            (Medium, live(), Some(Tier::Write), High),
            (Medium, live(), Some(Tier::DataAccess), Critical),
            (Medium, live(), Some(Tier::PrivilegeEscalation), Critical),
            (Medium, live(), Some(Tier::Admin), Critical),
            (Medium, live(), Some(Tier::Unknown), Critical),
            (Medium, live(), None, Critical),
            (Critical, live(), Some(Tier::ReadOnly), Critical),
            (High, unknown(), None, High),
            (Critical, unknown(), None, Critical),
            (High, unverifiable(), None, High),
            (Medium, None, None, Medium),
            (High, None, Some(Tier::ReadOnly), High),
            (High, None, Some(Tier::Admin), Critical),
            (High, unknown(), Some(Tier::PrivilegeEscalation), Critical),
        ];
        for (rule, outcome, tier, want) in table {
            let f = finding(rule, outcome.clone(), tier);
            assert_eq!(computed(&f), want, "{rule:?} {outcome:?} {tier:?}");
        }
    }

    /// Live first and most powerful first; invalid last; ties keep the scan's order.
    #[test]
    fn order_is_live_and_most_powerful_first() {
        let mut findings = vec![
            finding(Severity::Critical, invalid(), None),
            finding(Severity::Critical, unknown(), None),
            finding(Severity::Critical, live(), Some(Tier::ReadOnly)),
            finding(Severity::High, None, None),
            finding(Severity::Critical, live(), Some(Tier::Admin)),
            finding(Severity::Critical, unverifiable(), None),
        ];
        for (i, f) in findings.iter_mut().enumerate() {
            f.fingerprint = i.to_string();
        }
        apply(&mut findings);
        let order: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
        assert_eq!(order, ["4", "2", "1", "5", "3", "0"]);
        assert_eq!(findings[5].severity, Severity::Low);
    }
}
