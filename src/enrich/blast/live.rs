//! Live reads (`--verify --blast-radius`): read-only IAM calls made with the leaked key itself,
//! to learn what it may do. Each call the key may not make is recorded ("iam:GetUser:
//! AccessDenied") and skipped; that a key cannot read its own policies is a result, not an
//! error.
//!
//! Calls: `GetUser`, `ListUserPolicies` + `GetUserPolicy`, `ListAttachedUserPolicies` +
//! `GetPolicy` + `GetPolicyVersion`, `ListGroupsForUser` and the group equivalents; for an
//! assumed role, the role equivalents. Nothing is written.

use std::collections::HashMap;

use super::{PolicyRef, Principal, Read};
use crate::verify::Credential;
use crate::verify::aws::{AwsClient, CallError};
use crate::verify::xml;

/// Pages read from one list call at most.
const MAX_PAGES: usize = 20;

/// Reads what `principal` may do, calling IAM as `credential`.
pub fn read(client: &AwsClient, credential: &Credential, principal: &Principal) -> Read {
    let mut reader = Reader { client, credential, read: Read::default(), managed: HashMap::new() };
    match principal {
        Principal::User { name, arn, .. } => {
            reader.read.principal = arn.clone();
            reader.user(name);
        }
        Principal::Role { name, arn, .. } => {
            reader.read.principal = arn.clone();
            reader.role(name);
        }
        Principal::Root { .. } => {}
    }
    reader.read
}

struct Reader<'a> {
    client: &'a AwsClient,
    credential: &'a Credential,
    read: Read,
    /// Managed policy documents already fetched, by ARN: (version, document).
    managed: HashMap<String, Option<(String, String)>>,
}

impl Reader<'_> {
    fn call(&mut self, action: &str, params: &[(&str, &str)]) -> Option<String> {
        match self.client.call(action, params, self.credential) {
            Ok(reply) => {
                self.read.calls_answered += 1;
                Some(reply)
            }
            Err(e) => {
                let why = match &e {
                    CallError::Service { code, .. } => code.clone(),
                    CallError::Transport(m) => m.clone(),
                };
                let what = format!("iam:{action}");
                let note = format!("{what}: {why}");
                if !self.read.could_not_read.contains(&note) {
                    self.read.could_not_read.push(note);
                }
                None
            }
        }
    }

    /// Every `tag` in every page of a list call (IsTruncated/Marker).
    fn list(
        &mut self,
        action: &str,
        params: &[(&str, &str)],
        section: &str,
        tag: &str,
    ) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            if let Some(m) = &marker {
                all.push(("Marker", m));
            }
            let reply = self.call(action, &all)?;
            let scope = xml::section(&reply, section).unwrap_or(&reply);
            out.extend(xml::all(scope, tag));
            let truncated = xml::first(&reply, "IsTruncated").is_some_and(|t| t == "true");
            marker = xml::first(&reply, "Marker").filter(|_| truncated);
            if marker.is_none() {
                break;
            }
        }
        Some(out)
    }

    fn user(&mut self, name: &str) {
        if let Some(reply) = self.call("GetUser", &[("UserName", name)]) {
            if let Some(arn) = xml::first(&reply, "Arn") {
                self.read.principal = Some(arn);
            }
        }
        let p = [("UserName", name)];
        self.inline("ListUserPolicies", "GetUserPolicy", &p, "user-inline", None);
        self.attached("ListAttachedUserPolicies", &p, "user-managed", None);
        let groups = self.list("ListGroupsForUser", &p, "Groups", "GroupName").unwrap_or_default();
        for group in groups {
            let g = [("GroupName", group.as_str())];
            self.inline("ListGroupPolicies", "GetGroupPolicy", &g, "group-inline", Some(&group));
            self.attached("ListAttachedGroupPolicies", &g, "group-managed", Some(&group));
        }
    }

    fn role(&mut self, name: &str) {
        let p = [("RoleName", name)];
        self.inline("ListRolePolicies", "GetRolePolicy", &p, "role-inline", None);
        self.attached("ListAttachedRolePolicies", &p, "role-managed", None);
    }

    fn inline(
        &mut self,
        list: &str,
        get: &str,
        owner: &[(&str, &str)],
        kind: &'static str,
        via: Option<&str>,
    ) {
        let Some(names) = self.list(list, owner, "PolicyNames", "member") else { return };
        for name in names {
            let mut params = owner.to_vec();
            params.push(("PolicyName", &name));
            let Some(reply) = self.call(get, &params) else { continue };
            let reference = PolicyRef::inline(kind, &name, via);
            match xml::first(&reply, "PolicyDocument") {
                Some(document) => self.read.add_text(reference, &document),
                None => self.read.could_not_read.push(format!("iam:{get} {name}: no document")),
            }
        }
    }

    fn attached(
        &mut self,
        list: &str,
        owner: &[(&str, &str)],
        kind: &'static str,
        via: Option<&str>,
    ) {
        let Some(reply_arns) = self.list(list, owner, "AttachedPolicies", "PolicyArn") else {
            return;
        };
        for arn in reply_arns {
            let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
            let mut reference = PolicyRef::inline(kind, &name, via);
            reference.arn = Some(arn.clone());
            if !self.managed.contains_key(&arn) {
                let fetched = self.fetch_managed(&arn);
                self.managed.insert(arn.clone(), fetched);
            }
            match self.managed.get(&arn).cloned().flatten() {
                Some((version, document)) => {
                    reference.version = Some(version);
                    self.read.add_text(reference, &document);
                }
                None => {
                    if let Some(document) = super::builtin_managed(&arn) {
                        self.read.add(reference, &document);
                    }
                }
            }
        }
    }

    fn fetch_managed(&mut self, arn: &str) -> Option<(String, String)> {
        let reply = self.call("GetPolicy", &[("PolicyArn", arn)])?;
        let version = xml::first(&reply, "DefaultVersionId")?;
        let reply =
            self.call("GetPolicyVersion", &[("PolicyArn", arn), ("VersionId", &version)])?;
        let document = xml::first(&reply, "Document")?;
        Some((version, document))
    }
}
