//! Runs every rule's `examples` and `negative_examples` through the full matcher.
//!
//! The full matcher, not the rule alone, so that a check sees what a scan would report: keyword
//! prefilter, windows, filters, AWS pairing and overlap resolution included.

use super::{Error, RuleIdx};
use crate::matcher::{Match, Matcher, Scratch};

/// Checks the examples of every rule `select` picks; returns one error per failed example.
pub fn check_examples(matcher: &Matcher, select: impl Fn(RuleIdx) -> bool) -> Vec<Error> {
    let mut scratch = Scratch::default();
    let mut matches: Vec<Match> = Vec::new();
    let mut errors = Vec::new();
    for (i, rule) in matcher.rules().rules().iter().enumerate() {
        let idx = RuleIdx(i as u32);
        if !select(idx) {
            continue;
        }
        if let Err(error) = rule.check_regex() {
            errors.push(error);
            continue;
        }
        let fail = |problem: String| Error::Example { id: rule.id().to_string(), problem };
        if rule.syntax.examples.is_empty() {
            errors.push(fail("has no examples".to_string()));
        }
        for (n, example) in rule.syntax.examples.iter().enumerate() {
            matcher.scan(example.as_bytes(), &mut scratch, &mut matches);
            if !matches.iter().any(|m| m.rule == idx) {
                let others: Vec<&str> =
                    matches.iter().map(|m| matcher.rules().get(m.rule).id()).collect();
                let detail = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (matched by {} instead)", others.join(", "))
                };
                errors.push(fail(format!("example {} does not match{detail}", n + 1)));
            }
        }
        for (n, example) in rule.syntax.negative_examples.iter().enumerate() {
            matcher.scan(example.as_bytes(), &mut scratch, &mut matches);
            if matches.iter().any(|m| m.rule == idx) {
                errors.push(fail(format!("negative example {} matches", n + 1)));
            }
        }
    }
    errors
}
