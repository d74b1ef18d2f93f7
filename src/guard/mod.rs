//! Agent guard: decide whether what a coding agent is about to write or run holds a credential.
//!
//! An adapter per agent ([`claude`]) turns the agent's hook payload (JSON bytes) into a
//! [`Payload`]: the tool, the working directory, and the [`PendingContent`]s about to be written
//! or run. [`check`] scans each content in memory with [`scan_bytes`] (no walker, no threads)
//! and keeps the findings a [`Policy`] blocks; [`reason`] words them for the agent, secrets
//! redacted. Nothing here reads stdin, prints or exits: `cli/guard.rs` does, with the exit
//! code and output the agent's hook protocol expects.
//!
//! To add an agent, add a module with `parse(&[u8]) -> Result<Payload, Error>` and a variant of
//! [`Agent`].

pub mod claude;

use std::path::{Path, PathBuf};

use crate::enrich::allowlist::Allowlist;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::provenance::Provenance;
use crate::redact::Secret;
use crate::rules::Severity;
use crate::scan::scan_bytes;

/// The agents whose hook payloads keysweep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    /// Claude Code `PreToolUse` hooks ([`claude`]).
    ClaudeCode,
}

impl Agent {
    /// Parses a hook payload with this agent's adapter.
    ///
    /// # Errors
    /// The payload is not JSON, or not shaped as the agent sends it (see [`Error`]).
    pub fn parse(self, payload: &[u8]) -> Result<Payload, Error> {
        match self {
            Agent::ClaudeCode => claude::parse(payload),
        }
    }
}

/// A hook payload that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON at all.
    #[error("the hook payload is not valid JSON")]
    Json(#[source] serde_json::Error),
    /// JSON, but not the shape the agent sends.
    #[error("the hook payload has no {field} (a {expected})")]
    Shape {
        /// The field, as a JSON path (`tool_input.content`).
        field: String,
        /// What it should be (`string`, `object`).
        expected: &'static str,
    },
}

/// What a hook payload asks to do, as far as the guard cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// The tool (`Write`, `Bash`...), for messages.
    pub tool: String,
    /// The agent's working directory: where `.keysweep.toml` is looked for and what paths are
    /// shown relative to.
    pub cwd: Option<PathBuf>,
    /// What the tool would write or run; empty for tools the guard does not know.
    pub contents: Vec<PendingContent>,
}

/// One text a tool call would write or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingContent {
    /// The file written or edited; `None` for a shell command.
    pub path: Option<String>,
    /// The text.
    pub text: String,
    /// What the text is, which decides how its lines are named.
    pub kind: ContentKind,
}

/// What a [`PendingContent`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentKind {
    /// A whole file's new content: lines are the file's.
    File,
    /// The replacement text of an edit: lines count from the start of that text. `edit` is
    /// the index in a multi-edit's list (`None` for a single edit), `of` the list's length.
    Edit {
        /// 0-based index in the list of edits.
        edit: Option<usize>,
        /// How many edits the call makes.
        of: usize,
    },
    /// A notebook cell's new source: lines are the cell's.
    NotebookCell {
        /// The cell's id, when the payload names one.
        cell: Option<String>,
    },
    /// A shell command about to run.
    Command,
}

/// What blocks a tool call.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Findings of at least this severity block (a paired AWS key is critical).
    pub min_severity: Severity,
    /// The repository's allowlist (`.keysweep.toml`), if any.
    pub allowlist: Option<&'a Allowlist>,
}

/// A credential found in a pending content, as the block message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Index of the content in [`Payload::contents`].
    pub content: usize,
    /// Rule id.
    pub rule_id: String,
    /// Rule name.
    pub rule_name: String,
    /// Severity (critical for an AWS key id paired with its secret).
    pub severity: Severity,
    /// 1-based line (see [`ContentKind`] for what it counts from).
    pub line: usize,
    /// 1-based column, in code points.
    pub column: usize,
    /// The secret; prints redacted.
    pub secret: Secret,
    /// For an AWS key id paired with its secret access key: the secret's line.
    pub secret_key_line: Option<usize>,
    /// For a secret found in encoded text: the encodings undone (`base64`, `json`).
    pub encoding: Option<String>,
}

/// Scans every pending content and returns the leaks the policy blocks, in content order.
/// `keysweep:allow` on a line suppresses its findings, as in every scan.
pub fn check(matcher: &Matcher, payload: &Payload, policy: &Policy<'_>) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for (index, content) in payload.contents.iter().enumerate() {
        if content.text.is_empty() {
            continue;
        }
        let provenance = provenance(content, payload.cwd.as_deref());
        let skipped_path = policy.allowlist.and_then(Allowlist::paths).is_some_and(|paths| {
            content.path.is_some() && paths.is_match(provenance.relative_path())
        });
        if skipped_path {
            continue;
        }
        let result = scan_bytes(matcher, content.text.as_bytes(), provenance);
        for finding in &result.findings {
            if finding.severity < policy.min_severity
                || policy.allowlist.is_some_and(|a| a.allows(finding))
            {
                continue;
            }
            leaks.extend(leaks_of(index, finding));
        }
    }
    leaks.sort_by_key(|l| (l.content, l.line, l.column));
    leaks
}

/// One leak per location of `finding` (one content can hold a secret twice).
fn leaks_of(content: usize, finding: &Finding) -> impl Iterator<Item = Leak> + '_ {
    finding.locations.iter().map(move |location| {
        // A notebook written whole is scanned cell by cell; name the line in the file.
        let (line, column) = match &location.provenance {
            Provenance::Notebook { file_start, .. } => *file_start,
            _ => (location.start.line, location.start.column),
        };
        Leak {
            content,
            rule_id: finding.rule_id.clone(),
            rule_name: finding.rule_name.clone(),
            severity: finding.severity,
            line,
            column,
            secret: finding.secret.clone(),
            secret_key_line: location.secret_key_at.map(|p| p.line),
            encoding: location.provenance.decoded().map(str::to_string),
        }
    })
}

/// The provenance a content is scanned under: its file (relative to `cwd` for allowlist
/// globs), or standard input for a command.
fn provenance(content: &PendingContent, cwd: Option<&Path>) -> Provenance {
    match &content.path {
        Some(path) => Provenance::File { path: path.clone(), relative: relative(path, cwd) },
        None => Provenance::Stdin,
    }
}

/// `path` relative to `cwd` when it is inside it, `/`-separated; else as given.
fn relative(path: &str, cwd: Option<&Path>) -> String {
    let inside = cwd.and_then(|cwd| Path::new(path).strip_prefix(cwd).ok());
    let shown = inside.map_or_else(|| path.to_string(), |p| p.to_string_lossy().into_owned());
    let shown = shown.replace('\\', "/");
    shown.strip_prefix("./").map_or_else(|| shown.clone(), str::to_string)
}

/// The message that tells the agent why its tool call is blocked and what to do instead.
/// Every secret is redacted; paths are shown relative to the payload's `cwd` and sanitised.
pub fn reason(payload: &Payload, leaks: &[Leak]) -> String {
    let what = match payload.contents.first().map(|c| &c.kind) {
        Some(ContentKind::Command) => "this shell command holds",
        _ => "this change would write",
    };
    let count = if leaks.len() == 1 { "a credential" } else { "credentials" };
    let tool = crate::report::text::sanitize(&payload.tool);
    let mut text = format!("keysweep guard blocked {tool}: {what} {count}.\n");
    for leak in leaks {
        let Some(content) = payload.contents.get(leak.content) else { continue };
        let place = place(content, payload.cwd.as_deref(), leak);
        let encoded = leak
            .encoding
            .as_deref()
            .map(|e| format!(" ({}-encoded)", crate::report::text::sanitize(e)))
            .unwrap_or_default();
        let paired = leak
            .secret_key_line
            .map(|line| format!(", paired with its secret access key on line {line}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "- {} ({}, {}) {place}: {}{encoded}{paired}\n",
            leak.rule_id,
            leak.rule_name,
            leak.severity.as_str(),
            leak.secret.redacted(),
        ));
    }
    text.push_str(&advice(payload, leaks));
    text
}

/// Where a leak is, in words: `in src/app.py, line 3, column 17`.
fn place(content: &PendingContent, cwd: Option<&Path>, leak: &Leak) -> String {
    let path = content.path.as_deref().map(|p| crate::report::text::sanitize(&relative(p, cwd)));
    let at = format!("line {}, column {}", leak.line, leak.column);
    match (&content.kind, path) {
        (ContentKind::Command, _) | (_, None) => format!("in the shell command, {at}"),
        (ContentKind::File, Some(path)) => format!("in {path}, {at}"),
        (ContentKind::Edit { edit: None, .. }, Some(path)) => {
            format!("in the edit of {path}: new_string {at}")
        }
        (ContentKind::Edit { edit: Some(i), of }, Some(path)) => {
            format!("in edit {} of {of} to {path}: edits[{i}].new_string {at}", i + 1)
        }
        (ContentKind::NotebookCell { cell }, Some(path)) => {
            let cell = cell.as_deref().map(crate::report::text::sanitize);
            let cell = cell.map(|c| format!("cell {c}")).unwrap_or_else(|| "a cell".to_string());
            format!("in {cell} of {path}: new_source {at}")
        }
    }
}

/// What to do instead, for the languages and rules at hand.
fn advice(payload: &Payload, leaks: &[Leak]) -> String {
    let mut names: Vec<String> = Vec::new();
    for leak in leaks {
        let paired = leak.secret_key_line.map(|_| "AWS_SECRET_ACCESS_KEY".to_string());
        for name in std::iter::once(env_name(&leak.rule_id)).chain(paired) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let name = names.first().map_or("API_TOKEN", String::as_str);
    let mut forms: Vec<String> = Vec::new();
    for content in &payload.contents {
        let form = reference_form(content, name);
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    let mut text = format!(
        "Do not put the secret in code, config or commands. Read it at run time from an \
         environment variable or a secrets manager instead: {}.",
        forms.join("; ")
    );
    if leaks.iter().any(|l| l.rule_id.starts_with("aws.")) {
        text.push_str(
            " For AWS, the SDKs and the CLI find credentials by themselves (environment \
             variables, a named profile via AWS_PROFILE, an IAM role), so leave them out of the \
             code; prefer a role or profile over access keys, and keep other secrets in AWS \
             Secrets Manager (`aws secretsmanager get-secret-value`) or SSM Parameter Store \
             (`aws ssm get-parameter --with-decryption`).",
        );
    } else {
        text.push_str(
            " Keep the value itself in a secrets manager (AWS Secrets Manager, SSM Parameter \
             Store, Vault, your CI's secret store) or an untracked environment file.",
        );
    }
    text.push_str(&format!(
        " Use the variable name ({}) in the secret's place. Never print, echo or log the secret, and do \
         not retry with it split, encoded or obfuscated; if the user gave you this value, ask \
         them to set it in the environment themselves.\n",
        names.join(", ")
    ));
    text
}

/// How code in this content's language reads environment variable `name`.
fn reference_form(content: &PendingContent, name: &str) -> String {
    let extension = content
        .path
        .as_deref()
        .and_then(|p| Path::new(p).extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if content.kind == ContentKind::Command {
        return format!("\"${name}\" in the shell, set outside the command");
    }
    match extension.as_str() {
        "py" | "ipynb" | "pyi" => format!("os.environ[\"{name}\"] in Python"),
        "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "jsx" | "tsx" => {
            format!("process.env.{name} in JavaScript")
        }
        "go" => format!("os.Getenv(\"{name}\") in Go"),
        "rs" => format!("std::env::var(\"{name}\") in Rust"),
        "rb" => format!("ENV[\"{name}\"] in Ruby"),
        "java" | "kt" | "kts" | "scala" => format!("System.getenv(\"{name}\") on the JVM"),
        "cs" => format!("Environment.GetEnvironmentVariable(\"{name}\") in C#"),
        "php" => format!("getenv('{name}') in PHP"),
        "sh" | "bash" | "zsh" => format!("\"${name}\" in the shell"),
        "yml" | "yaml" => format!("${{{{ secrets.{name} }}}} in a GitHub workflow"),
        "tf" | "tfvars" => "a `sensitive = true` variable or a data source in Terraform".into(),
        _ => format!("os.environ[\"{name}\"] in Python, process.env.{name} in JavaScript"),
    }
}

/// The conventional environment variable for a rule's credential.
fn env_name(rule_id: &str) -> String {
    match rule_id {
        "aws.access-key-id" => "AWS_ACCESS_KEY_ID".to_string(),
        "aws.secret-access-key" => "AWS_SECRET_ACCESS_KEY".to_string(),
        id if id.starts_with("aws.session-token") => "AWS_SESSION_TOKEN".to_string(),
        id if id.starts_with("github.") => "GITHUB_TOKEN".to_string(),
        id if id.starts_with("database.") => "DATABASE_URL".to_string(),
        id => id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(env_name("aws.access-key-id"), "AWS_ACCESS_KEY_ID");
        assert_eq!(env_name("github.pat-classic"), "GITHUB_TOKEN");
        assert_eq!(env_name("stripe.secret-key"), "STRIPE_SECRET_KEY");
    }

    #[test]
    fn relative_paths() {
        let cwd = Path::new("/home/u/proj");
        assert_eq!(relative("/home/u/proj/src/a.py", Some(cwd)), "src/a.py");
        assert_eq!(relative("/etc/x", Some(cwd)), "/etc/x");
        assert_eq!(relative("./b.py", None), "b.py");
    }
}
