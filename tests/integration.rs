//! keysweep's end-to-end tests: one binary that runs the built `keysweep` on temporary trees
//! and checks exact facts (rule, path, line, column, pairing, exit code) in its reports.
//!
//! Every credential is a generated fake assembled at run time (see `util::Fakes`).

#[macro_use]
mod util;

mod action;
mod agents;
mod archive;
mod aws;
mod bad_input;
mod blast;
mod cli;
mod corpus;
mod decode;
mod examples;
mod extra_reports;
mod fuzz_corpus;
mod git;
mod guard;
mod hostile;
mod hostile_more;
mod html;
mod hygiene;
mod image;
mod listing;
mod log;
mod moto;
mod notebook;
mod owner;
mod redaction;
mod report;
mod revoke;
mod sweep;
mod sweep_forge;
mod sweep_https;
mod verify;
