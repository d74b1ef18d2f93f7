//! `keysweep revoke` and the store: the finding a fingerprint names (for its exposure window and
//! to check a key id against it), and a row per revocation attempt.

use rusqlite::{OptionalExtension as _, params};

use super::{Error, Store, now};

/// What the store knows about a finding that revocation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// The rule that found it.
    pub rule_id: String,
    /// SHA-256 of the secret (for the AWS key-id rule, of the key id).
    pub secret_sha256: Option<String>,
    /// The earliest commit date among its locations (RFC 3339), when any has one.
    pub first_commit_date: Option<String>,
}

impl StoredFinding {
    /// False when the finding is an AWS key id finding and `key_id` is not its key id.
    pub fn may_be(&self, key_id: &str) -> bool {
        self.rule_id != AWS_KEY_ID_RULE
            || self.secret_sha256.as_deref().is_none_or(|h| h == super::record::sha256_hex(key_id))
    }
}

/// The rule whose secret is the access key id itself.
const AWS_KEY_ID_RULE: &str = "aws.access-key-id";

/// One recorded revocation attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRow {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The key id, redacted.
    pub key_preview: String,
    /// The key's IAM user, when found.
    pub user_name: Option<String>,
    /// `deactivated`, `not-permitted`, ...
    pub outcome: String,
    /// What the service said.
    pub message: String,
    /// Seconds since the epoch.
    pub at: i64,
}

impl Store {
    /// The finding with `fingerprint`, if the store has it.
    ///
    /// # Errors
    /// The query fails.
    pub fn finding_for_revocation(
        &self,
        fingerprint: &str,
    ) -> Result<Option<StoredFinding>, Error> {
        let conn = self.lock();
        conn.query_row(
            "SELECT f.rule_id, f.secret_sha256,
                    (SELECT MIN(l.date) FROM locations l WHERE l.finding = f.id AND l.date != '')
             FROM findings f WHERE f.fingerprint = ?1",
            [fingerprint],
            |row| {
                Ok(StoredFinding {
                    rule_id: row.get(0)?,
                    secret_sha256: row.get(1)?,
                    first_commit_date: row.get(2)?,
                })
            },
        )
        .optional()
        .map_err(self.sql("reading a finding to revoke"))
    }

    /// Records a revocation attempt, stamped now.
    ///
    /// # Errors
    /// The insert fails.
    pub fn record_revocation(
        &self,
        fingerprint: &str,
        key_preview: &str,
        user_name: Option<&str>,
        outcome: &str,
        message: &str,
    ) -> Result<(), Error> {
        self.lock()
            .execute(
                "INSERT INTO revocations (fingerprint, key_preview, user_name, outcome, message, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![fingerprint, key_preview, user_name, outcome, message, now()],
            )
            .map_err(self.sql("recording a revocation"))?;
        Ok(())
    }

    /// Every revocation attempt recorded for `fingerprint`, oldest first.
    ///
    /// # Errors
    /// The query fails.
    pub fn revocations(&self, fingerprint: &str) -> Result<Vec<RevocationRow>, Error> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT fingerprint, key_preview, user_name, outcome, message, at
                 FROM revocations WHERE fingerprint = ?1 ORDER BY id",
            )
            .map_err(self.sql("reading revocations"))?;
        let rows = statement
            .query_map([fingerprint], |row| {
                Ok(RevocationRow {
                    fingerprint: row.get(0)?,
                    key_preview: row.get(1)?,
                    user_name: row.get(2)?,
                    outcome: row.get(3)?,
                    message: row.get(4)?,
                    at: row.get(5)?,
                })
            })
            .map_err(self.sql("reading revocations"))?;
        rows.collect::<Result<_, _>>().map_err(self.sql("reading revocations"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_are_recorded_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        store.record_revocation("fp", "AKIA****", Some("ci"), "not-permitted", "no").unwrap();
        store.record_revocation("fp", "AKIA****", Some("ci"), "deactivated", "yes").unwrap();
        store.record_revocation("other", "AKIA****", None, "error", "x").unwrap();
        let rows = store.revocations("fp").unwrap();
        let outcomes: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
        assert_eq!(outcomes, ["not-permitted", "deactivated"]);
        assert_eq!(rows[1].user_name.as_deref(), Some("ci"));
        assert!(rows[1].at > 0);
        assert_eq!(store.finding_for_revocation("fp").unwrap(), None);
    }

    #[test]
    fn a_key_id_is_checked_against_the_stored_hash() {
        let key = format!("{}{}", "AKIA", "RZPUZDIKMDS4CW3C");
        let stored = |rule: &str, key: &str| StoredFinding {
            rule_id: rule.to_string(),
            secret_sha256: Some(super::super::record::sha256_hex(key)),
            first_commit_date: None,
        };
        assert!(stored(AWS_KEY_ID_RULE, &key).may_be(&key));
        assert!(!stored(AWS_KEY_ID_RULE, "another").may_be(&key));
        // Other rules' secrets are not key ids: nothing to check against.
        assert!(stored("aws.secret-access-key", "another").may_be(&key));
    }
}
