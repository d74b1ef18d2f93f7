//! Enrichment after the scan, on findings only: suppression by allowlist and baseline.
//! Later: verification, owner, blast radius.

pub mod allowlist;
pub mod baseline;
