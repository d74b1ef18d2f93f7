//! Revocation: deactivate a leaked AWS access key (`iam:UpdateAccessKey` to `Inactive`, never
//! delete) and tell the responder what to run next.
//!
//! Input is a [`Target`]: the key id, and either its own secret (the key deactivates itself) or
//! an administrator's credential. [`Revoker::revoke`] finds the key's user, checks its status,
//! and acts only when asked (`act`); otherwise it says what it would do. [`followup`] writes the
//! CloudTrail queries and rotation steps. Requests go only to the IAM and STS endpoints given;
//! secrets leave this module only as SigV4 signatures.

pub mod followup;
pub mod input;
pub mod profile;

use std::time::Duration;

use serde::Serialize;

use crate::verify::Credential;
use crate::verify::aws::{AwsClient, CallError, Endpoint, IAM_VERSION, STS_VERSION, is_key_id};
use crate::verify::xml;

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The key is now inactive.
    Deactivated,
    /// Dry run: the key is active and would be deactivated with `--yes`.
    WouldDeactivate,
    /// The caller may not deactivate it (`AccessDenied`).
    NotPermitted,
    /// It was inactive already.
    AlreadyInactive,
    /// AWS does not know the key id (`InvalidClientTokenId`, `NoSuchEntity`); on AWS an
    /// inactive key signing its own request is rejected the same way.
    InvalidKey,
    /// Anything else; the message says what.
    Error,
}

impl Outcome {
    /// The outcome as reports and the store spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Deactivated => "deactivated",
            Outcome::WouldDeactivate => "would-deactivate",
            Outcome::NotPermitted => "not-permitted",
            Outcome::AlreadyInactive => "already-inactive",
            Outcome::InvalidKey => "invalid-key",
            Outcome::Error => "error",
        }
    }

    /// True when the key is (or, in a dry run, can be taken to be) contained.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Deactivated | Outcome::WouldDeactivate | Outcome::AlreadyInactive)
    }
}

/// The key to deactivate and whose rights to use.
#[derive(Debug, Clone)]
pub struct Target {
    /// The access key id.
    pub key_id: String,
    /// The credential that signs the requests: the key itself, or an administrator's.
    pub signer: Credential,
    /// True when `signer` is an administrator, not the key itself.
    pub as_admin: bool,
}

/// The result for one key.
#[derive(Debug, Clone, Serialize)]
pub struct Revocation {
    /// The access key id (reports redact it unless asked not to).
    #[serde(skip)]
    pub key_id: String,
    /// The IAM user that owns the key, when it was found.
    pub user: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// What the service said, or what was or would be done.
    pub message: String,
}

/// The error of [`Revoker::new`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not an access key id.
    #[error("{redacted:?} is not an AWS access key id (AKIA... or ASIA..., 20 characters)")]
    NotAKeyId {
        /// The value, redacted.
        redacted: String,
    },
}

/// Talks to IAM (and STS for the key's own identity).
#[derive(Debug, Clone)]
pub struct Revoker {
    iam: AwsClient,
    sts: AwsClient,
}

impl Revoker {
    /// A revoker asking `iam` and `sts`, signing for `region`.
    pub fn new(iam: Endpoint, sts: Endpoint, region: &str, timeout: Duration) -> Revoker {
        Revoker {
            iam: AwsClient::new(iam, region, "iam", IAM_VERSION, timeout),
            sts: AwsClient::new(sts, region, "sts", STS_VERSION, timeout),
        }
    }

    /// Finds the key's user and status, and deactivates it when `act` is set.
    ///
    /// # Errors
    /// `target.key_id` is not an access key id (nothing is sent then).
    pub fn revoke(&self, target: &Target, act: bool) -> Result<Revocation, Error> {
        if !is_key_id(&target.key_id) {
            return Err(Error::NotAKeyId { redacted: crate::redact::redact(&target.key_id) });
        }
        let key_id = target.key_id.clone();
        let done = |user: Option<String>, outcome, message: String| Revocation {
            key_id: key_id.clone(),
            user,
            outcome,
            message: target.signer.scrub(&message),
        };
        let user = match self.user_of(target) {
            Ok(user) => user,
            Err(e) if outcome_of(&e) == Outcome::InvalidKey && !target.as_admin => {
                let message = format!(
                    "{e} (AWS answers so for an unknown, deleted or already inactive key; \
                     --as-admin can tell which)"
                );
                return Ok(done(None, Outcome::InvalidKey, message));
            }
            Err(e) => return Ok(done(None, outcome_of(&e), e.to_string())),
        };
        if self.status(target, &user) == Some(false) {
            let message = format!("the key of IAM user {user} is already inactive");
            return Ok(done(Some(user), Outcome::AlreadyInactive, message));
        }
        if !act {
            let message = format!(
                "would call iam:UpdateAccessKey UserName={user} Status=Inactive with {} \
                 (dry run: pass --yes to deactivate)",
                if target.as_admin { "the administrator's credentials" } else { "the key itself" }
            );
            return Ok(done(Some(user), Outcome::WouldDeactivate, message));
        }
        let params =
            [("UserName", user.as_str()), ("AccessKeyId", &key_id), ("Status", "Inactive")];
        Ok(match self.iam.call("UpdateAccessKey", &params, &target.signer) {
            Ok(_) => {
                let message =
                    format!("iam:UpdateAccessKey set the key of IAM user {user} to Inactive");
                done(Some(user), Outcome::Deactivated, message)
            }
            Err(e) => done(Some(user), outcome_of(&e), e.to_string()),
        })
    }

    /// The key's IAM user: an administrator asks `GetAccessKeyLastUsed`; the key itself asks
    /// STS who it is (`GetCallerIdentity` needs no permission).
    fn user_of(&self, target: &Target) -> Result<String, CallError> {
        if target.as_admin {
            let reply = self.iam.call(
                "GetAccessKeyLastUsed",
                &[("AccessKeyId", &target.key_id)],
                &target.signer,
            )?;
            return xml::first(&reply, "UserName")
                .filter(|u| !u.is_empty())
                .ok_or_else(|| unexpected("iam:GetAccessKeyLastUsed answered without a UserName"));
        }
        let reply = self.sts.call("GetCallerIdentity", &[], &target.signer)?;
        let arn = xml::first(&reply, "Arn")
            .ok_or_else(|| unexpected("sts:GetCallerIdentity answered without an ARN"))?;
        user_from_arn(&arn).ok_or_else(|| {
            unexpected(&format!(
                "{arn} is not an IAM user: temporary credentials cannot be deactivated with \
                 iam:UpdateAccessKey (revoke the role's sessions instead)"
            ))
        })
    }

    /// `Some(true)` active, `Some(false)` inactive, `None` unknown (not permitted to list).
    fn status(&self, target: &Target, user: &str) -> Option<bool> {
        let reply = self.iam.call("ListAccessKeys", &[("UserName", user)], &target.signer).ok()?;
        let members = xml::all(&reply, "member");
        let member = members.iter().find(|m| m.contains(&target.key_id))?;
        Some(xml::first(member, "Status")? != "Inactive")
    }
}

fn unexpected(message: &str) -> CallError {
    CallError::Transport(message.to_string())
}

/// The outcome an IAM or STS error means.
fn outcome_of(error: &CallError) -> Outcome {
    match error.code() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => Outcome::NotPermitted,
        "InvalidClientTokenId" | "NoSuchEntity" | "InvalidAccessKeyId" => Outcome::InvalidKey,
        _ => Outcome::Error,
    }
}

/// The user name of an IAM user ARN (`arn:aws:iam::123456789012:user/path/name` → `name`).
pub fn user_from_arn(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next().filter(|n| !n.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_from_arns() {
        assert_eq!(user_from_arn("arn:aws:iam::123456789012:user/alice").as_deref(), Some("alice"));
        assert_eq!(
            user_from_arn("arn:aws:iam::123456789012:user/team/ci/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(user_from_arn("arn:aws:sts::123456789012:assumed-role/r/s"), None);
        assert_eq!(user_from_arn("arn:aws:iam::123456789012:root"), None);
        assert_eq!(user_from_arn("garbage"), None);
    }

    #[test]
    fn outcomes_from_error_codes() {
        let service = |code: &str| CallError::Service {
            status: 403,
            code: code.to_string(),
            message: String::new(),
        };
        assert_eq!(outcome_of(&service("AccessDenied")), Outcome::NotPermitted);
        assert_eq!(outcome_of(&service("InvalidClientTokenId")), Outcome::InvalidKey);
        assert_eq!(outcome_of(&service("NoSuchEntity")), Outcome::InvalidKey);
        assert_eq!(outcome_of(&service("SignatureDoesNotMatch")), Outcome::Error);
        assert_eq!(outcome_of(&CallError::Transport("x".into())), Outcome::Error);
    }
}
