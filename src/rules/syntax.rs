//! The TOML shape of a rule, as written in `rules/*.toml` and in a user's `.keysweep.toml`.
//!
//! Parsing only: nothing here compiles a regex or checks an example (see [`super::RuleSet`]).

use serde::Deserialize;

/// A file holding rules: `[[rules]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The rules, in file order.
    #[serde(default)]
    pub rules: Vec<RuleSyntax>,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    /// Stable identifier, `provider.kind`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Free-text category (cloud, vcs, chat...).
    #[serde(default)]
    pub category: Option<String>,
    /// How bad a leak of this kind is.
    pub severity: Severity,
    /// ASCII case-insensitive literals, one of which every match contains.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The confirming regex, with a `secret` capture group.
    pub regex: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// A structural check of the secret beyond the regex.
    #[serde(default)]
    pub validate: Option<Validator>,
    /// How the secret can be checked for liveness (`aws-sts`).
    #[serde(default)]
    pub verify: Option<String>,
    /// Wins over lower priorities when two rules claim overlapping secrets.
    #[serde(default)]
    pub priority: i32,
    /// Bytes before a keyword hit that the regex may see.
    #[serde(default)]
    pub window_before: Option<usize>,
    /// Bytes after a keyword hit that the regex may see.
    #[serde(default)]
    pub window_after: Option<usize>,
    /// What the secret grants and how to revoke it.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the token format is documented.
    #[serde(default)]
    pub references: Vec<String>,
    /// Inputs that must produce a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Inputs that must not.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// Severity of a leak, before enrichment (verification, blast radius) refines it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look, rarely an incident.
    Info,
    /// Limited exposure.
    Low,
    /// Exposure with some reach.
    Medium,
    /// A credential with real reach.
    High,
    /// A credential that opens a cloud account or production system.
    Critical,
}

impl Severity {
    /// The lowercase name used in every report.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub code scanning's `security-severity` score (0.0–10.0).
    pub fn score(self) -> f64 {
        match self {
            Severity::Info => 1.0,
            Severity::Low => 3.0,
            Severity::Medium => 5.5,
            Severity::High => 8.0,
            Severity::Critical => 9.5,
        }
    }
}

/// Built-in structural checks a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// AWS access key id: prefix and base32 alphabet; decodes the account id.
    AwsAccessKeyId,
    /// AWS secret access key: 40 chars of base64 once unescaped, mixed classes, high entropy.
    AwsSecretAccessKey,
    /// AWS session token: long base64.
    AwsSessionToken,
    /// GitHub/npm style token whose last 6 chars are base62(CRC32) of the 30 random chars.
    GithubChecksum,
    /// A JWT whose header and payload decode to JSON objects (header with `alg`).
    Jwt,
    /// A PEM/OpenSSH private key block that is not encrypted.
    PrivateKey,
    /// A PEM/OpenSSH private key block that is encrypted.
    PrivateKeyEncrypted,
    /// A value assigned to a secret-named variable: not a reference, path, URL, UUID, hash,
    /// number, identifier, test value or a provider-prefixed token.
    GenericSecret,
}
