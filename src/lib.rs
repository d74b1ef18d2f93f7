//! keysweep finds leaked credentials, AWS keys first, and tells a responder what matters.
//!
//! Data flows one way:
//!
//! ```text
//! source (fs, stdin) ──Blob + Provenance──► scan ──&[u8]──► Matcher ──Match──► finding::build
//!     ──Finding──► enrich (allowlist, baseline) ──► Report ──► text | json | jsonl | sarif
//! ```
//!
//! - [`rules`]: rule data, compiled; [`matcher`]: pure bytes → matches.
//! - [`source`]: everything that touches the file system; [`scan`]: the parallel pipeline.
//! - [`finding`]: matches with locations, grouped by secret; [`enrich`]: suppression, owner,
//!   blast radius, severity; [`verify`]: is a credential live (opt-in, the only network use
//!   besides pulling images).
//! - [`report`]: writers, which never open files or reach the network.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod decode;
pub mod enrich;
pub mod finding;
pub mod guard;
pub mod hex;
pub mod matcher;
pub mod parse_error;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod revoke;
pub mod rules;
pub mod scan;
pub mod source;
pub mod store;
pub mod sweep;
pub mod verify;
