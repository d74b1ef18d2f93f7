//! Blast radius: what a leaked AWS key can do, as a tier a responder can sort by.
//!
//! Two sources, each opt-in. Offline: `get-account-authorization-details` exports
//! ([`export::IamExport`]) and the key → user mapping (from verification's ARN, or a
//! `list-access-keys` export). Live (`--verify --blast-radius`): read-only IAM calls made with
//! the key itself ([`live`]). Policies are resolved to their default versions, their allowed
//! actions computed ([`policy`]) with wildcards expanded against the shipped action table
//! ([`actions`]), and the result classified:
//!
//! | tier | when |
//! |---|---|
//! | `admin` | every action on every resource (`*` on `*`), or the account's root user |
//! | `privilege-escalation` | an action that lets the key grant itself more (see [`ESCALATION`]) |
//! | `data-access` | reads data: `s3:GetObject`, `secretsmanager:GetSecretValue`, `kms:Decrypt`... |
//! | `write` | any other action that changes something |
//! | `read-only` | only `Get`/`List`/`Describe`-style actions (or none at all) |
//! | `unknown` | no policy could be read |

pub mod actions;
pub mod export;
pub mod live;
pub mod policy;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::finding::Finding;
use crate::verify::aws::{AwsClient, is_key_id};
use crate::verify::{Credentials, Outcome, run_bounded};
use actions::ActionTable;
use export::{AccessKeys, IamExport};
use policy::{Effective, Statement};

/// How much a key can do, least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// No policy could be read.
    Unknown,
    /// Reads metadata only.
    ReadOnly,
    /// Changes something.
    Write,
    /// Reads data (objects, secrets, parameters, items) or decrypts.
    DataAccess,
    /// Can grant itself more.
    PrivilegeEscalation,
    /// Everything.
    Admin,
}

impl Tier {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Unknown => "unknown",
            Tier::ReadOnly => "read-only",
            Tier::Write => "write",
            Tier::DataAccess => "data-access",
            Tier::PrivilegeEscalation => "privilege-escalation",
            Tier::Admin => "admin",
        }
    }
}

/// Single actions that let a principal escalate (public research on IAM escalation paths).
pub const ESCALATION: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "lambda:UpdateFunctionCode",
    "ssm:SendCommand",
];

/// `iam:PassRole` plus one of these launches compute as a more powerful role.
const PASS_ROLE_LAUNCHES: &[&[&str]] = &[
    &["ec2:RunInstances"],
    &["lambda:CreateFunction", "lambda:InvokeFunction"],
    &["lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
    &["glue:CreateDevEndpoint"],
    &["glue:CreateJob"],
    &["cloudformation:CreateStack"],
    &["ecs:RunTask"],
    &["ecs:StartTask"],
    &["sagemaker:CreateNotebookInstance"],
    &["codebuild:CreateProject"],
    &["datapipeline:CreatePipeline"],
];

/// Actions that read data rather than metadata (patterns).
const DATA_ACCESS: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter*",
    "kms:Decrypt",
    "dynamodb:*Item",
    "dynamodb:*Items",
    "dynamodb:Query",
    "dynamodb:Scan",
    "rds-data:ExecuteStatement",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "lambda:GetFunction",
    "ecr:GetDownloadUrlForLayer",
];

/// Verbs of actions that only read.
const READ_VERBS: &[&str] = &[
    "Get", "List", "Describe", "BatchGet", "Head", "Search", "Lookup", "View", "Query", "Scan",
    "Select", "Check", "Simulate", "Estimate", "Preview", "Discover", "Detect",
];

/// How many actions a tier lists as its reason, at most.
const MAX_TIER_ACTIONS: usize = 25;

/// A policy that applies to the principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    /// `user-inline`, `user-managed`, `group-inline`, `group-managed`, `role-inline`,
    /// `role-managed`.
    pub kind: &'static str,
    /// Policy name.
    pub name: String,
    /// Managed policy ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The default version the document came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The group it comes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
}

impl PolicyRef {
    fn inline(kind: &'static str, name: &str, via: Option<&str>) -> PolicyRef {
        PolicyRef {
            kind,
            name: name.to_string(),
            arn: None,
            version: None,
            via_group: via.map(str::to_string),
        }
    }
}

/// What a key can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlastRadius {
    /// The tier.
    pub tier: Tier,
    /// The principal (ARN, or user name from a key inventory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Where the policies came from: `export`, `live`.
    pub sources: Vec<&'static str>,
    /// The policies that apply.
    pub policies: Vec<PolicyRef>,
    /// Services the key can reach (`*` for all).
    pub services: Vec<String>,
    /// The actions that put it in its tier (at most 25).
    pub tier_actions: Vec<String>,
    /// Number of distinct actions allowed.
    pub allowed_actions: usize,
    /// What could not be read ("iam:ListUserPolicies: AccessDenied").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub could_not_read: Vec<String>,
    /// True when every policy that applies was read.
    pub complete: bool,
}

/// Whose key it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// An IAM user.
    User {
        /// User name.
        name: String,
        /// ARN, when known.
        arn: Option<String>,
        /// Account, when known.
        account: Option<String>,
    },
    /// An assumed role (a temporary key).
    Role {
        /// Role name.
        name: String,
        /// The assumed-role ARN.
        arn: Option<String>,
        /// Account.
        account: Option<String>,
    },
    /// The account's root user.
    Root {
        /// ARN.
        arn: String,
    },
}

impl Principal {
    /// From an ARN that STS returned.
    pub fn from_arn(arn: &str) -> Option<Principal> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, _, account, resource] = parts[..] else { return None };
        let account = Some(account.to_string()).filter(|a| !a.is_empty());
        match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => Some(Principal::Root { arn: arn.into() }),
            ("iam", Some(("user", path))) => Some(Principal::User {
                name: path.rsplit('/').next().unwrap_or(path).to_string(),
                arn: Some(arn.into()),
                account,
            }),
            ("sts", Some(("assumed-role", rest))) => Some(Principal::Role {
                name: rest.split('/').next().unwrap_or(rest).to_string(),
                arn: Some(arn.into()),
                account,
            }),
            _ => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            Principal::User { name, arn, .. } | Principal::Role { name, arn, .. } => {
                arn.clone().unwrap_or_else(|| name.clone())
            }
            Principal::Root { arn } => arn.clone(),
        }
    }
}

/// Policies read from one source.
#[derive(Debug, Clone, Default)]
pub struct Read {
    /// The principal's ARN as the source knows it.
    pub principal: Option<String>,
    /// Policies and their statements.
    pub policies: Vec<(PolicyRef, Vec<Statement>)>,
    /// What could not be read.
    pub could_not_read: Vec<String>,
    /// Live calls that answered.
    pub calls_answered: usize,
}

impl Read {
    fn add(&mut self, reference: PolicyRef, document: &Value) {
        match policy::parse(document) {
            Ok(statements) => self.policies.push((reference, statements)),
            Err(e) => self.could_not_read.push(format!("policy {}: {e}", reference.name)),
        }
    }

    fn add_text(&mut self, reference: PolicyRef, document: &str) {
        match policy::parse_text(document) {
            Ok(statements) => self.policies.push((reference, statements)),
            Err(e) => self.could_not_read.push(format!("policy {}: {e}", reference.name)),
        }
    }
}

/// AWS managed policies whose content is known without reading them.
fn builtin_managed(arn: &str) -> Option<Value> {
    (arn == "arn:aws:iam::aws:policy/AdministratorAccess").then(
        || serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
}

/// Classifies what `effective` allows: the tier and the actions that put it there.
pub fn classify(effective: &Effective) -> (Tier, Vec<String>) {
    if effective.everything {
        return (Tier::Admin, vec!["*".to_string()]);
    }
    let mut escalation: Vec<String> =
        ESCALATION.iter().filter(|a| effective.allows(a)).map(|a| a.to_string()).collect();
    if effective.allows("iam:PassRole") {
        for launch in PASS_ROLE_LAUNCHES {
            if launch.iter().all(|a| effective.allows(a)) {
                escalation.push(format!("iam:PassRole + {}", launch.join(" + ")));
            }
        }
    }
    if effective.allows("iam:UpdateAssumeRolePolicy") && effective.allows("sts:AssumeRole") {
        escalation.push("iam:UpdateAssumeRolePolicy + sts:AssumeRole".to_string());
    }
    if effective.allows_on_every_resource("sts:AssumeRole") {
        escalation.push("sts:AssumeRole on *".to_string());
    }
    if !escalation.is_empty() {
        return (Tier::PrivilegeEscalation, cap(escalation));
    }
    let lower: Vec<String> = DATA_ACCESS.iter().map(|p| p.to_ascii_lowercase()).collect();
    let data: Vec<String> = effective
        .allowed
        .keys()
        .filter(|a| lower.iter().any(|p| actions::wildcard_match(p, &a.to_ascii_lowercase())))
        .cloned()
        .collect();
    if !data.is_empty() {
        return (Tier::DataAccess, cap(data));
    }
    let writes: Vec<String> = effective
        .allowed
        .keys()
        .filter(|a| {
            let verb = a.split_once(':').map_or(a.as_str(), |(_, v)| v);
            !READ_VERBS.iter().any(|r| verb.starts_with(r))
        })
        .cloned()
        .collect();
    if !writes.is_empty() {
        return (Tier::Write, cap(writes));
    }
    (Tier::ReadOnly, cap(effective.allowed.keys().cloned().collect()))
}

fn cap(mut list: Vec<String>) -> Vec<String> {
    list.truncate(MAX_TIER_ACTIONS);
    list
}

/// The blast-radius sources of a run.
#[derive(Debug, Default)]
pub struct BlastSources {
    /// `--aws-iam` exports.
    pub export: IamExport,
    /// `--aws-access-keys` exports.
    pub access_keys: AccessKeys,
    /// `--blast-radius`: an IAM client for live reads with the leaked key.
    pub live: Option<AwsClient>,
}

impl BlastSources {
    /// True when no source is configured (blast radius is then not computed).
    pub fn is_empty(&self) -> bool {
        self.export.is_empty() && self.live.is_none()
    }
}

/// Fills [`Finding::blast_radius`] for every AWS key id whose principal is known. Live reads run
/// at most `concurrency` at a time, once per distinct credential.
pub fn assess(
    findings: &mut [Finding],
    credentials: &Credentials,
    sources: &BlastSources,
    concurrency: usize,
) {
    if sources.is_empty() {
        return;
    }
    let table = actions::table();
    // Principal and live credential per finding.
    let mut plans: Vec<(usize, Principal, Option<usize>)> = Vec::new();
    let mut live_jobs: Vec<(&crate::verify::Credential, Principal)> = Vec::new();
    let mut live_index: HashMap<String, usize> = HashMap::new();
    for (i, finding) in findings.iter().enumerate() {
        if !is_key_id(finding.secret.expose()) {
            continue;
        }
        let verified_arn = finding.verification.as_ref().and_then(|v| match &v.outcome {
            Outcome::Live { arn, .. } => Some(arn.clone()),
            _ => None,
        });
        let principal = match &verified_arn {
            Some(arn) => Principal::from_arn(arn),
            None => sources.access_keys.user(finding.secret.expose()).map(|name| Principal::User {
                name: name.to_string(),
                arn: None,
                account: finding.aws_account.clone(),
            }),
        };
        let Some(principal) = principal else { continue };
        let live = match (&sources.live, verified_arn.is_some(), credentials.get(&i)) {
            (Some(_), true, Some(credential)) if !matches!(principal, Principal::Root { .. }) => {
                let key = credential.cache_key("aws-iam");
                Some(*live_index.entry(key).or_insert_with(|| {
                    live_jobs.push((credential, principal.clone()));
                    live_jobs.len() - 1
                }))
            }
            _ => None,
        };
        plans.push((i, principal, live));
    }
    let live_reads: Vec<Read> = match &sources.live {
        Some(client) => run_bounded(&live_jobs, concurrency, |(credential, principal)| {
            live::read(client, credential, principal)
        }),
        None => Vec::new(),
    };
    for (i, principal, live) in plans {
        let offline = sources.export.read(&principal);
        let live = live.map(|l| &live_reads[l]);
        findings[i].blast_radius = Some(combine(&principal, offline, live, sources, table));
    }
}

fn combine(
    principal: &Principal,
    offline: Option<Read>,
    live: Option<&Read>,
    sources: &BlastSources,
    table: &ActionTable,
) -> BlastRadius {
    if let Principal::Root { arn } = principal {
        return BlastRadius {
            tier: Tier::Admin,
            principal: Some(arn.clone()),
            sources: vec!["verification"],
            policies: Vec::new(),
            services: vec!["*".to_string()],
            tier_actions: vec!["root user: every action".to_string()],
            allowed_actions: table.len(),
            could_not_read: Vec::new(),
            complete: true,
        };
    }
    let mut used: Vec<&'static str> = Vec::new();
    let mut policies: Vec<(PolicyRef, Vec<Statement>)> = Vec::new();
    let mut could_not_read = Vec::new();
    let mut shown = principal.shown();
    let mut readable = false;
    match offline {
        Some(read) => {
            used.push("export");
            readable = true;
            shown = read.principal.clone().unwrap_or(shown);
            could_not_read.extend(read.could_not_read);
            policies.extend(read.policies);
        }
        None if !sources.export.is_empty() => {
            could_not_read.push(format!("{}: not in the IAM export", principal.shown()));
        }
        None => {}
    }
    if let Some(read) = live {
        used.push("live");
        readable |= read.calls_answered > 0;
        if !read.could_not_read.is_empty() {
            could_not_read.extend(read.could_not_read.iter().cloned());
        }
        for (reference, statements) in &read.policies {
            let seen = policies.iter().any(|(r, _)| {
                r.kind == reference.kind
                    && r.name == reference.name
                    && r.via_group == reference.via_group
            });
            if !seen {
                policies.push((reference.clone(), statements.clone()));
            }
        }
    }
    let complete = could_not_read.is_empty() && readable;
    let statements = policies.iter().flat_map(|(_, s)| s.iter());
    let effective = policy::evaluate(statements, table);
    let (tier, tier_actions) = if !readable || (policies.is_empty() && !could_not_read.is_empty()) {
        (Tier::Unknown, Vec::new())
    } else {
        classify(&effective)
    };
    let services: Vec<String> = if effective.everything {
        vec!["*".to_string()]
    } else {
        let set: BTreeSet<String> = effective
            .allowed
            .keys()
            .filter_map(|a| a.split_once(':').map(|(s, _)| s.to_string()))
            .collect();
        set.into_iter().collect()
    };
    BlastRadius {
        tier,
        principal: Some(shown),
        sources: used,
        policies: policies.into_iter().map(|(r, _)| r).collect(),
        services,
        tier_actions,
        allowed_actions: effective.allowed.len(),
        could_not_read,
        complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tier_of(doc: Value) -> (Tier, Vec<String>) {
        let statements = policy::parse(&doc).unwrap();
        classify(&policy::evaluate(&statements, actions::table()))
    }

    fn allow(actions: Value) -> Value {
        json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    }

    #[test]
    fn tiers() {
        assert_eq!(tier_of(allow(json!("*"))).0, Tier::Admin);
        assert_eq!(
            tier_of(allow(json!("iam:CreateAccessKey"))),
            (Tier::PrivilegeEscalation, vec!["iam:CreateAccessKey".to_string()])
        );
        let (tier, why) = tier_of(allow(json!(["iam:PassRole", "ec2:RunInstances"])));
        assert_eq!(tier, Tier::PrivilegeEscalation);
        assert_eq!(why, ["iam:PassRole + ec2:RunInstances"]);
        assert_eq!(tier_of(allow(json!("iam:PassRole"))).0, Tier::Write);
        assert_eq!(tier_of(allow(json!("sts:AssumeRole"))).0, Tier::PrivilegeEscalation);
        assert_eq!(tier_of(allow(json!(["s3:Get*"]))).0, Tier::DataAccess);
        assert_eq!(tier_of(allow(json!(["dynamodb:PutItem"]))).0, Tier::DataAccess);
        assert_eq!(tier_of(allow(json!(["s3:PutObject"]))).0, Tier::Write);
        assert_eq!(
            tier_of(allow(json!(["s3:List*", "iam:Get*", "ec2:Describe*"]))).0,
            Tier::ReadOnly
        );
        assert_eq!(tier_of(json!({"Statement": []})).0, Tier::ReadOnly);
        // iam:* includes escalation; NotAction excluding iam and sts still reaches ssm:SendCommand.
        assert_eq!(tier_of(allow(json!("iam:*"))).0, Tier::PrivilegeEscalation);
        let power = json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}]});
        assert_eq!(tier_of(power).0, Tier::PrivilegeEscalation);
    }

    #[test]
    fn principals() {
        assert_eq!(
            Principal::from_arn("arn:aws:iam::123456789012:user/dev/alice"),
            Some(Principal::User {
                name: "alice".into(),
                arn: Some("arn:aws:iam::123456789012:user/dev/alice".into()),
                account: Some("123456789012".into())
            })
        );
        assert!(matches!(
            Principal::from_arn("arn:aws:sts::123456789012:assumed-role/deploy/s1"),
            Some(Principal::Role { name, .. }) if name == "deploy"
        ));
        assert!(matches!(
            Principal::from_arn("arn:aws:iam::123456789012:root"),
            Some(Principal::Root { .. })
        ));
        assert_eq!(Principal::from_arn("nonsense"), None);
    }
}
