//! Where the key to revoke comes from: a key id and secret on standard input, or a finding in a
//! JSON report (by fingerprint). Parsing only; no I/O and no network here.
//!
//! Reports redact secrets by default, so a finding from a redacted report yields no key id and
//! no secret: the caller must then be given the key id (and use an administrator's rights, or
//! the secret on stdin). A report written with `--show-secrets` yields both.

use serde_json::Value;

use crate::redact::Secret;
use crate::verify::aws::is_key_id;

/// The error of this module's parsers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Standard input did not hold `KEY_ID SECRET` or `KEY_ID:SECRET`.
    #[error(
        "standard input holds no access key: expected `KEY_ID SECRET` or `KEY_ID:SECRET` (an AKIA \
         key id and its 40-character secret)"
    )]
    NoPair,
    /// The report is not a keysweep JSON report.
    #[error("{path} is not a keysweep JSON report")]
    NotAReport {
        /// The report.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No finding with that fingerprint.
    #[error("no finding with fingerprint {fingerprint} in {path}")]
    NoFinding {
        /// The fingerprint asked for.
        fingerprint: String,
        /// The report or store.
        path: String,
    },
}

/// An access key id and (when known) its secret.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The key id.
    pub key_id: String,
    /// The secret access key.
    pub secret: Option<Secret>,
}

/// Reads `KEY_ID SECRET` (any whitespace between) or `KEY_ID:SECRET` from `text`.
///
/// # Errors
/// [`Error::NoPair`] when the text holds neither form with a valid key id.
pub fn parse_pair(text: &str) -> Result<KeyPair, Error> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let (id, secret) = match tokens.as_slice() {
        [one] => one.split_once(':').ok_or(Error::NoPair)?,
        [id, secret] => (*id, *secret),
        _ => return Err(Error::NoPair),
    };
    if !is_key_id(id) || secret.is_empty() {
        return Err(Error::NoPair);
    }
    Ok(KeyPair { key_id: id.to_string(), secret: Some(Secret::new(secret.as_bytes())) })
}

/// What a report says about one finding.
#[derive(Debug, Clone, Default)]
pub struct Reported {
    /// The key id, when the report shows it (written with `--show-secrets`).
    pub key_id: Option<String>,
    /// The paired secret, when the report shows it.
    pub secret: Option<Secret>,
    /// The earliest commit date of the finding's locations (RFC 3339), when it has one.
    pub first_commit_date: Option<String>,
}

/// Finds the AWS key finding with `fingerprint` in the JSON report `text` (read from `path`).
///
/// # Errors
/// Not a JSON report, or no finding with that fingerprint.
pub fn from_report(text: &str, path: &str, fingerprint: &str) -> Result<Reported, Error> {
    let document: Value = serde_json::from_str(text)
        .map_err(|source| Error::NotAReport { path: path.to_string(), source })?;
    let finding = document["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["fingerprint"].as_str() == Some(fingerprint))
        .ok_or_else(|| Error::NoFinding {
            fingerprint: fingerprint.to_string(),
            path: path.to_string(),
        })?;
    let key_id = finding["secret"].as_str().filter(|s| is_key_id(s)).map(str::to_string);
    // A redacted secret carries `*`, which no AWS secret access key holds.
    let secret = finding["secret_key"]
        .as_str()
        .filter(|s| !s.is_empty() && !s.contains('*'))
        .map(|s| Secret::new(s.as_bytes()));
    let first_commit_date = finding["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["date"].as_str())
        .chain(finding["introduced"]["date"].as_str())
        .filter_map(|d| d.parse::<jiff::Timestamp>().ok())
        .min()
        .map(|t| t.to_string());
    Ok(Reported { key_id, secret, first_commit_date })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_id() -> String {
        format!("{}{}", "AKIA", "RZPUZDIKMDS4CW3C")
    }

    #[test]
    fn pairs_from_stdin() {
        let id = fake_id();
        for text in
            [format!("{id} s3cr/et+x\n"), format!("{id}:s3cr/et+x"), format!("\n{id}\ts3cr/et+x")]
        {
            let pair = parse_pair(&text).unwrap();
            assert_eq!(pair.key_id, id);
            assert_eq!(pair.secret.unwrap().expose(), "s3cr/et+x");
        }
        assert!(matches!(parse_pair(""), Err(Error::NoPair)));
        assert!(matches!(parse_pair(&id), Err(Error::NoPair)));
        assert!(matches!(parse_pair("notakey secret"), Err(Error::NoPair)));
        assert!(matches!(parse_pair(&format!("{id} a b")), Err(Error::NoPair)));
    }

    #[test]
    fn findings_from_reports() {
        let id = fake_id();
        let report = format!(
            r#"{{"findings":[{{"fingerprint":"f1","secret":"AKIA****","secret_key":"abcd****",
              "locations":[{{"date":"2024-03-01T10:00:00Z"}},{{"date":"2023-12-31T23:59:59Z"}}]}},
              {{"fingerprint":"f2","secret":"{id}","secret_key":"sec/ret","locations":[{{}}]}}]}}"#
        );
        let redacted = from_report(&report, "r.json", "f1").unwrap();
        assert_eq!(redacted.key_id, None);
        assert!(redacted.secret.is_none());
        assert_eq!(redacted.first_commit_date.as_deref(), Some("2023-12-31T23:59:59Z"));
        let shown = from_report(&report, "r.json", "f2").unwrap();
        assert_eq!(shown.key_id.as_deref(), Some(id.as_str()));
        assert_eq!(shown.secret.unwrap().expose(), "sec/ret");
        assert_eq!(shown.first_commit_date, None);
        assert!(matches!(from_report(&report, "r.json", "f3"), Err(Error::NoFinding { .. })));
        assert!(matches!(from_report("nope", "r.json", "f1"), Err(Error::NotAReport { .. })));
    }
}
