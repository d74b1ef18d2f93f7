//! Offline sources: `aws iam get-account-authorization-details` exports (`--aws-iam FILE`,
//! several allowed) and `aws iam list-access-keys` exports (`--aws-access-keys FILE`), which map
//! an access key id to its user.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::{PolicyRef, Principal, Read};

/// The error returned by the loaders.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unreadable.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not the expected export.
    #[error("{path} is not an `aws iam {command}` export")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The command whose output was expected.
        command: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Details {
    user_detail_list: Vec<UserDetail>,
    group_detail_list: Vec<GroupDetail>,
    role_detail_list: Vec<RoleDetail>,
    policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct UserDetail {
    user_name: String,
    arn: String,
    user_policy_list: Vec<InlinePolicy>,
    group_list: Vec<String>,
    attached_managed_policies: Vec<Attached>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct GroupDetail {
    group_name: String,
    arn: String,
    group_policy_list: Vec<InlinePolicy>,
    attached_managed_policies: Vec<Attached>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RoleDetail {
    role_name: String,
    arn: String,
    role_policy_list: Vec<InlinePolicy>,
    attached_managed_policies: Vec<Attached>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct InlinePolicy {
    policy_name: String,
    policy_document: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Attached {
    policy_name: String,
    policy_arn: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ManagedPolicy {
    arn: String,
    default_version_id: Option<String>,
    policy_version_list: Vec<PolicyVersion>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PolicyVersion {
    document: Value,
    version_id: String,
    is_default_version: bool,
}

/// Merged authorization-details exports.
#[derive(Debug, Default)]
pub struct IamExport {
    users: Vec<UserDetail>,
    groups: HashMap<(String, String), GroupDetail>,
    roles: Vec<RoleDetail>,
    policies: HashMap<String, ManagedPolicy>,
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, command: &'static str) -> Result<T, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.into(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Parse {
        path: path.into(),
        command,
        source,
    })
}

impl IamExport {
    /// Reads and merges exports.
    ///
    /// # Errors
    /// A file is unreadable or not an export; the error names it.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<IamExport, Error> {
        let mut export = IamExport::default();
        for path in paths {
            let details: Details = read_json(path.as_ref(), "get-account-authorization-details")?;
            export.users.extend(details.user_detail_list);
            export.roles.extend(details.role_detail_list);
            for group in details.group_detail_list {
                export.groups.insert((account_of(&group.arn), group.group_name.clone()), group);
            }
            for policy in details.policies {
                export.policies.insert(policy.arn.clone(), policy);
            }
        }
        Ok(export)
    }

    /// True when no export was given.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.roles.is_empty()
    }

    /// The policies that apply to `principal`, or `None` when the export does not know it.
    pub fn read(&self, principal: &Principal) -> Option<Read> {
        match principal {
            Principal::User { name, arn, account } => {
                let user = self
                    .users
                    .iter()
                    .find(|u| arn.as_deref().is_some_and(|a| a == u.arn))
                    .or_else(|| {
                    self.users.iter().find(|u| {
                        u.user_name == *name
                            && account.as_deref().is_none_or(|a| a == account_of(&u.arn))
                    })
                })?;
                let mut read = Read { principal: Some(user.arn.clone()), ..Read::default() };
                for p in &user.user_policy_list {
                    read.add(
                        PolicyRef::inline("user-inline", &p.policy_name, None),
                        &p.policy_document,
                    );
                }
                for a in &user.attached_managed_policies {
                    self.managed(&mut read, a, "user-managed", None);
                }
                let user_account = account_of(&user.arn);
                for group_name in &user.group_list {
                    let Some(group) = self.groups.get(&(user_account.clone(), group_name.clone()))
                    else {
                        read.could_not_read.push(format!("group {group_name}: not in the export"));
                        continue;
                    };
                    for p in &group.group_policy_list {
                        let r = PolicyRef::inline("group-inline", &p.policy_name, Some(group_name));
                        read.add(r, &p.policy_document);
                    }
                    for a in &group.attached_managed_policies {
                        self.managed(&mut read, a, "group-managed", Some(group_name));
                    }
                }
                Some(read)
            }
            Principal::Role { name, account, .. } => {
                let role = self.roles.iter().find(|r| {
                    r.role_name == *name
                        && account.as_deref().is_none_or(|a| a == account_of(&r.arn))
                })?;
                let mut read = Read { principal: Some(role.arn.clone()), ..Read::default() };
                for p in &role.role_policy_list {
                    read.add(
                        PolicyRef::inline("role-inline", &p.policy_name, None),
                        &p.policy_document,
                    );
                }
                for a in &role.attached_managed_policies {
                    self.managed(&mut read, a, "role-managed", None);
                }
                Some(read)
            }
            Principal::Root { .. } => None,
        }
    }

    fn managed(&self, read: &mut Read, attached: &Attached, kind: &'static str, via: Option<&str>) {
        let mut reference = PolicyRef::inline(kind, &attached.policy_name, via);
        reference.arn = Some(attached.policy_arn.clone());
        let Some(policy) = self.policies.get(&attached.policy_arn) else {
            match super::builtin_managed(&attached.policy_arn) {
                Some(document) => read.add(reference, &document),
                None => read
                    .could_not_read
                    .push(format!("policy {}: not in the export", attached.policy_arn)),
            }
            return;
        };
        let default = policy.policy_version_list.iter().find(|v| {
            v.is_default_version
                || policy.default_version_id.as_deref().is_some_and(|d| d == v.version_id)
        });
        match default {
            Some(version) => {
                reference.version = Some(version.version_id.clone());
                read.add(reference, &version.document);
            }
            None => read
                .could_not_read
                .push(format!("policy {}: no default version in the export", attached.policy_arn)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AccessKeysFile {
    access_key_metadata: Vec<AccessKeyMeta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AccessKeyMeta {
    user_name: String,
    access_key_id: String,
}

/// Access key id → user name, from `aws iam list-access-keys` exports.
#[derive(Debug, Default, Clone)]
pub struct AccessKeys {
    users: HashMap<String, String>,
}

impl AccessKeys {
    /// Reads and merges exports (`{"AccessKeyMetadata": [{"UserName", "AccessKeyId"}...]}`).
    ///
    /// # Errors
    /// A file is unreadable or not an export.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<AccessKeys, Error> {
        let mut keys = AccessKeys::default();
        for path in paths {
            let file: AccessKeysFile = read_json(path.as_ref(), "list-access-keys")?;
            for key in file.access_key_metadata {
                keys.users.insert(key.access_key_id, key.user_name);
            }
        }
        Ok(keys)
    }

    /// The user owning `key_id`.
    pub fn user(&self, key_id: &str) -> Option<&str> {
        self.users.get(key_id).map(String::as_str)
    }
}
