//! Verification: does a found credential still work? Opt-in (`--verify`); nothing leaves the
//! machine without it.
//!
//! A [`Verifier`] knows one provider: which findings it can verify, how to pull a
//! [`Credential`] out of a finding, and how to ask the provider about it. [`verify_findings`]
//! does the rest for every provider alike: one request per distinct credential per run, a
//! bounded pool of workers, and an optional on-disk [`cache`] keyed by a hash of the credential
//! (never the secret itself).
//!
//! The only verifier today is [`aws::Sts`] (`sts:GetCallerIdentity`, SigV4-signed).

pub mod aws;
pub mod cache;
pub mod xml;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::Finding;
use crate::redact::Secret;

/// What a provider said about a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The credential works.
    Live {
        /// The account it belongs to.
        account: String,
        /// The principal's ARN.
        arn: String,
        /// The principal's unique id.
        user_id: String,
    },
    /// The provider rejected it.
    Invalid {
        /// The provider's error code (`InvalidClientTokenId`, `SignatureDoesNotMatch`,
        /// `ExpiredToken`, ...).
        error: String,
        /// The provider's message, with any secret removed.
        message: String,
    },
    /// No answer: network error, timeout, throttling after retries, an unexpected reply.
    Unknown {
        /// Why.
        reason: String,
    },
    /// Not enough of the credential was found to ask (no secret paired, a temporary key
    /// without its session token).
    Unverifiable {
        /// What is missing.
        reason: String,
    },
}

impl Outcome {
    /// `live`, `invalid`, `unknown` or `unverifiable`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Live { .. } => "live",
            Outcome::Invalid { .. } => "invalid",
            Outcome::Unknown { .. } => "unknown",
            Outcome::Unverifiable { .. } => "unverifiable",
        }
    }

    /// True for a working credential.
    pub fn is_live(&self) -> bool {
        matches!(self, Outcome::Live { .. })
    }

    /// Definite answers are worth caching; `unknown` and `unverifiable` are not.
    fn cacheable(&self) -> bool {
        matches!(self, Outcome::Live { .. } | Outcome::Invalid { .. })
    }
}

/// A finding's verification, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The answer.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The verifier that asked (`aws-sts`).
    pub verifier: String,
    /// Where it asked (absent when nothing was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// True when the answer came from `--verify-cache`, not a request in this run.
    pub cached: bool,
}

/// The parts of a credential a verifier needs. Only verifiers see these values.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credential {
    /// The public half (an access key id).
    pub id: String,
    /// The secret half.
    pub secret: Secret,
    /// A session token, for temporary credentials.
    pub token: Option<Secret>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({}, {:?})", crate::redact::redact(&self.id), self.secret)
    }
}

impl Credential {
    /// A stable key for the cache and for deduplication: SHA-256 of the verifier's name, the
    /// id, the secret and the token. One-way: the cache file holds no secret.
    pub fn cache_key(&self, verifier: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [verifier, &self.id, self.secret.expose()] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        if let Some(token) = &self.token {
            hasher.update(token.expose().as_bytes());
        }
        crate::hex::lower(&hasher.finalize())
    }

    /// Replaces every secret part in `text` with its redacted form (for provider messages).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in std::iter::once(&self.secret).chain(self.token.as_ref()) {
            if !secret.is_empty() {
                out = out.replace(secret.expose(), &secret.redacted());
            }
        }
        out
    }
}

/// One provider's verification.
pub trait Verifier: Send + Sync {
    /// The name rules use in their `verify` field (`aws-sts`).
    fn name(&self) -> &'static str;

    /// The credential in `finding`, or why it cannot be verified
    /// ([`Outcome::Unverifiable`]'s reason).
    ///
    /// # Errors
    /// What is missing, in a few words.
    fn credential(&self, finding: &Finding) -> Result<Credential, String>;

    /// Asks the provider. Never panics on a bad answer; every failure is an [`Outcome`].
    fn verify(&self, credential: &Credential) -> Outcome;

    /// The endpoint requests go to, for the report.
    fn endpoint(&self) -> String;
}

/// How verification runs.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// At most this many requests in flight.
    pub concurrency: usize,
    /// `--verify-cache FILE`.
    pub cache: Option<std::path::PathBuf>,
    /// Cache entries older than this are asked again.
    pub cache_ttl: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { concurrency: 8, cache: None, cache_ttl: Duration::from_secs(3600) }
    }
}

/// What a verification pass did.
#[derive(Debug, Default, Clone)]
pub struct VerifyStats {
    /// Distinct credentials seen.
    pub credentials: usize,
    /// Requests made in this run (one per distinct credential not answered by the cache).
    pub requested: usize,
    /// Answers taken from the cache.
    pub cached: usize,
    /// Wall time of the requests.
    pub elapsed: Duration,
    /// Problems that did not stop verification (an unreadable cache file).
    pub warnings: Vec<String>,
}

/// The credential behind each verified finding, by finding index: blast-radius reads reuse it.
pub type Credentials = HashMap<usize, Credential>;

/// Verifies every finding some verifier applies to, writing [`Finding::verification`].
/// Returns what it did and, for each finding that has one, its credential.
pub fn verify_findings(
    findings: &mut [Finding],
    rules_verify: impl Fn(&Finding) -> Option<String>,
    verifiers: &[&dyn Verifier],
    options: &VerifyOptions,
) -> (VerifyStats, Credentials) {
    let mut stats = VerifyStats::default();
    let mut credentials = Credentials::new();
    // Distinct credentials: (verifier index, cache key) → the credential and its findings.
    let mut distinct: Vec<(usize, String, Credential)> = Vec::new();
    let mut index: HashMap<(usize, String), usize> = HashMap::new();
    let mut wants: Vec<(usize, Option<usize>)> = Vec::new();
    for (i, finding) in findings.iter_mut().enumerate() {
        let Some(name) = rules_verify(finding) else { continue };
        let Some(v) = verifiers.iter().position(|v| v.name() == name) else { continue };
        match verifiers[v].credential(finding) {
            Ok(credential) => {
                let key = credential.cache_key(verifiers[v].name());
                let slot = *index.entry((v, key.clone())).or_insert_with(|| {
                    distinct.push((v, key, credential.clone()));
                    distinct.len() - 1
                });
                credentials.insert(i, credential);
                wants.push((i, Some(slot)));
            }
            Err(reason) => {
                finding.verification = Some(Verification {
                    outcome: Outcome::Unverifiable { reason },
                    verifier: name,
                    endpoint: None,
                    cached: false,
                });
                wants.push((i, None));
            }
        }
    }
    stats.credentials = distinct.len();
    let mut cache = match &options.cache {
        Some(path) => match cache::Cache::load(path) {
            Ok(cache) => Some(cache),
            Err(e) => {
                stats.warnings.push(format!("{e}; starting an empty cache"));
                Some(cache::Cache::empty(path))
            }
        },
        None => None,
    };
    let now = SystemTime::now();
    let mut answers: Vec<Option<(Outcome, bool)>> = distinct
        .iter()
        .map(|(_, key, _)| {
            let cache = cache.as_ref()?;
            cache.get(key, now, options.cache_ttl).map(|o| (o, true))
        })
        .collect();
    stats.cached = answers.iter().filter(|a| a.is_some()).count();
    let todo: Vec<usize> = (0..distinct.len()).filter(|&i| answers[i].is_none()).collect();
    stats.requested = todo.len();
    let started = std::time::Instant::now();
    let fresh = run_bounded(&todo, options.concurrency, |&i| {
        let (v, _, credential) = &distinct[i];
        verifiers[*v].verify(credential)
    });
    stats.elapsed = started.elapsed();
    for (&i, outcome) in todo.iter().zip(fresh) {
        if let Some(cache) = cache.as_mut().filter(|_| outcome.cacheable()) {
            cache.put(distinct[i].1.clone(), outcome.clone(), now);
        }
        answers[i] = Some((outcome, false));
    }
    if let Some(cache) = &mut cache {
        cache.prune(now, options.cache_ttl);
        if let Err(e) = cache.save() {
            stats.warnings.push(e.to_string());
        }
    }
    for (finding, slot) in wants {
        let Some(slot) = slot else { continue };
        let (v, _, _) = &distinct[slot];
        let (outcome, cached) = answers[slot].clone().expect("every distinct credential answered");
        findings[finding].verification = Some(Verification {
            outcome,
            verifier: verifiers[*v].name().to_string(),
            endpoint: Some(verifiers[*v].endpoint()),
            cached,
        });
    }
    (stats, credentials)
}

/// Runs `work` on every item with at most `concurrency` at a time (scoped threads pulling from a
/// shared counter); results come back in the items' order.
pub fn run_bounded<T: Sync, R: Send>(
    items: &[T],
    concurrency: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = concurrency.max(1).min(items.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    results.lock().expect("no worker panics while holding the lock")[i] =
                        Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("workers are done")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_pool_keeps_order_and_bound() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<usize> = (0..40).collect();
        let out = run_bounded(&items, 3, |&i| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            in_flight.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn cache_key_is_one_way_and_distinct() {
        let a = Credential { id: "AKIA1".into(), secret: Secret::new(b"s1"), token: None };
        let b = Credential { id: "AKIA1".into(), secret: Secret::new(b"s2"), token: None };
        assert_ne!(a.cache_key("aws-sts"), b.cache_key("aws-sts"));
        assert!(!a.cache_key("aws-sts").contains("s1"));
        assert_eq!(a.cache_key("aws-sts").len(), 64);
        assert!(!format!("{a:?}").contains("s1"));
    }
}
