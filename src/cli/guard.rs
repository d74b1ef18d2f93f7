//! `keysweep guard`: an agent hook. Reads the hook payload on stdin, scans what the tool call
//! would write or run with [`keysweep::guard`], and answers in the agent's protocol.
//!
//! Claude Code's protocol: exit 0 allows; exit 2 blocks and feeds stderr to the model; any
//! other code is a non-blocking error shown to the user. Or, with exit 0, stdout JSON
//! `{"hookSpecificOutput": {"permissionDecision": "deny", ...}}` (`--output-format json`).
//!
//! A payload that cannot be read is allowed with a warning (exit 1, fail-open): a hook that
//! blocked every call on a format change would stop the agent outright, for every tool, and be
//! switched off; and a payload keysweep cannot read is not one that carries a credential it
//! could have found. Exit 1 rather than 0 so that Claude Code shows the warning to the user.
//! The fast path: no walker, no threads, no progress; rules are loaded only when there is text
//! to scan, and their regexes compile lazily, only for keywords found.

use std::io::{Read as _, Write as _};

use keysweep::{
    enrich::allowlist::Allowlist,
    guard::{self, Agent, Payload, Policy},
    matcher::Matcher,
    rules::{RuleSet, Severity},
};

use super::{
    Outcome,
    args::{AgentArg, GuardArgs, GuardFormat, SeverityArg},
    output,
};

/// Allow: nothing found, nothing to scan, or a JSON decision on stdout.
const ALLOW: u8 = 0;
/// Allow, and show the warning on stderr to the user (a non-blocking error).
const ALLOW_WITH_WARNING: u8 = 1;
/// Block; stderr is the reason the model reads.
const BLOCK: u8 = 2;

/// Runs the hook. Never fails: every problem becomes an exit code the agent understands.
pub(super) fn guard(args: &GuardArgs) -> Outcome {
    output::init_logging(args.verbose);
    let mut input = Vec::new();
    if let Err(error) = std::io::stdin().lock().read_to_end(&mut input) {
        return warn(&format!("cannot read the hook payload on stdin: {error}"));
    }
    let agent = match args.agent {
        AgentArg::Claude => Agent::ClaudeCode,
    };
    let payload = match agent.parse(&input) {
        Ok(payload) => payload,
        Err(error) => {
            let cause = std::error::Error::source(&error)
                .map(|cause| format!(" ({cause})"))
                .unwrap_or_default();
            return warn(&format!("{error}{cause}"));
        }
    };
    if payload.contents.iter().all(|c| c.text.is_empty()) {
        log::debug!("guard: {} has nothing to scan", payload.tool);
        return Outcome::Hook(ALLOW);
    }
    let Some((matcher, allowlist)) = rules(args, &payload) else {
        return warn("the built-in rules are broken");
    };
    let policy =
        Policy { min_severity: severity(args.min_severity), allowlist: allowlist.as_ref() };
    let leaks = guard::check(&matcher, &payload, &policy);
    log::info!("guard: {} {} leak(s)", payload.tool, leaks.len());
    if leaks.is_empty() {
        return Outcome::Hook(ALLOW);
    }
    let reason = guard::reason(&payload, &leaks);
    match args.output_format {
        GuardFormat::ExitCode => {
            let _ = std::io::stderr().lock().write_all(reason.as_bytes());
            Outcome::Hook(BLOCK)
        }
        GuardFormat::Json => {
            let decision = serde_json::json!({
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                }
            });
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{decision}").and_then(|()| stdout.flush()).is_ok() {
                Outcome::Hook(ALLOW)
            } else {
                let _ = std::io::stderr().lock().write_all(reason.as_bytes());
                Outcome::Hook(BLOCK)
            }
        }
    }
}

/// The matcher and allowlist: built-in rules plus `.keysweep.toml` (from `--config`, else the
/// payload's `cwd`, else the current directory). A broken config is reported and skipped, so
/// the built-in rules still guard; `None` only if the built-in rules themselves are broken.
fn rules(args: &GuardArgs, payload: &Payload) -> Option<(Matcher, Option<Allowlist>)> {
    match super::load(args.config.as_deref(), payload.cwd.as_deref()) {
        Ok(loaded) => match Allowlist::new(&loaded.config.allowlist) {
            Ok(allowlist) => Some((loaded.matcher, Some(allowlist))),
            Err(error) => {
                note(&format!("the allowlist of {} is ignored: {error:#}", loaded.origin));
                Some((loaded.matcher, None))
            }
        },
        Err(error) => {
            note(&format!("{error:#}; guarding with the built-in rules only"));
            let rules = RuleSet::builtin().ok()?;
            Some((Matcher::new(std::sync::Arc::new(rules)), None))
        }
    }
}

fn severity(arg: SeverityArg) -> Severity {
    match arg {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// Allows the call and says why on stderr (fail-open).
fn warn(message: &str) -> Outcome {
    note(&format!("{message}; the tool call is allowed unchecked"));
    Outcome::Hook(ALLOW_WITH_WARNING)
}

/// One diagnostic line on stderr, sanitised; a closed stderr is not an error worth failing on.
fn note(message: &str) {
    let line = format!("keysweep guard: {}\n", keysweep::report::text::sanitize(message));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
