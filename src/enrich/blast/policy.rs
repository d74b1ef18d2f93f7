//! IAM policy documents: parsing, and the actions their statements allow.
//!
//! What counts: `Allow` statements' `Action` (wildcards expanded against the shipped
//! [action table](super::actions)) or `NotAction` (every known action but those), minus what an
//! unconditional `Deny` on every resource (`"Resource": "*"`) takes away. A `Deny` limited to
//! some resources or by a condition leaves the action allowed elsewhere, so it takes nothing
//! away. Conditions and resources are otherwise not evaluated: the answer is "what this
//! principal may do somewhere", which is what a responder needs to rank a leak.

use std::collections::BTreeMap;

use serde_json::Value;

use super::actions::ActionTable;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Allows.
    Allow,
    /// Denies (wins over any allow).
    Deny,
}

/// One statement, reduced to what the action list needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Allow or deny.
    pub effect: Effect,
    /// Action patterns.
    pub actions: Vec<String>,
    /// True when the patterns are a `NotAction` (everything else).
    pub not_action: bool,
    /// True when it applies to every resource (`"Resource": "*"`, no `NotResource`).
    pub every_resource: bool,
    /// True when it has a `Condition`.
    pub conditional: bool,
}

/// Parses a policy document given as JSON text, URL-encoded JSON text (as the IAM API returns
/// documents) or already parsed.
///
/// # Errors
/// Not a policy document (the message says what is wrong, never the content).
pub fn parse_text(text: &str) -> Result<Vec<Statement>, String> {
    let trimmed = text.trim();
    let decoded = if trimmed.starts_with('%') {
        crate::verify::aws::percent_decode(trimmed, true)
    } else {
        trimmed.to_string()
    };
    let value: Value =
        serde_json::from_str(&decoded).map_err(|e| format!("policy is not JSON: {e}"))?;
    parse(&value)
}

/// Parses a policy document (a JSON object, or a string holding one).
///
/// # Errors
/// Not a policy document.
pub fn parse(document: &Value) -> Result<Vec<Statement>, String> {
    if let Value::String(text) = document {
        return parse_text(text);
    }
    let statements = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("policy has no Statement".to_string()),
    };
    statements.into_iter().map(statement).collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => {
            list.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

fn statement(value: &Value) -> Result<Statement, String> {
    let effect = match value.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        other => return Err(format!("statement effect {other:?} is neither Allow nor Deny")),
    };
    let (actions, not_action) = match (value.get("Action"), value.get("NotAction")) {
        (Some(a), _) => (strings(Some(a)), false),
        (None, Some(n)) => (strings(Some(n)), true),
        (None, None) => return Err("statement has neither Action nor NotAction".to_string()),
    };
    let every_resource = value.get("NotResource").is_none()
        && strings(value.get("Resource")).iter().any(|r| r == "*");
    let conditional =
        value.get("Condition").is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty()));
    Ok(Statement { effect, actions, not_action, every_resource, conditional })
}

/// What a set of statements allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective {
    /// Allowed actions (the table's spelling, or as written when the table lacks them) →
    /// whether some unconditional statement allows it on every resource.
    pub allowed: BTreeMap<String, bool>,
    /// True when every known action is allowed on every resource, unconditionally.
    pub everything: bool,
}

impl Effective {
    /// True when `action` (any case) is allowed.
    pub fn allows(&self, action: &str) -> bool {
        self.allowed.contains_key(action)
            || self.allowed.keys().any(|a| a.eq_ignore_ascii_case(action))
    }

    /// True when `action` is allowed on every resource, unconditionally.
    pub fn allows_on_every_resource(&self, action: &str) -> bool {
        self.allowed.iter().any(|(a, star)| *star && a.eq_ignore_ascii_case(action))
    }
}

/// Evaluates statements against the action table.
pub fn evaluate<'a>(
    statements: impl IntoIterator<Item = &'a Statement>,
    table: &ActionTable,
) -> Effective {
    let statements: Vec<&Statement> = statements.into_iter().collect();
    // Per table index: allowed, allowed on every resource unconditionally.
    let mut known = vec![(false, false); table.len()];
    let mut unknown: BTreeMap<String, bool> = BTreeMap::new();
    for s in statements.iter().filter(|s| s.effect == Effect::Allow) {
        let star = s.every_resource && !s.conditional;
        let mut mark = |i: usize| {
            let slot = &mut known[i];
            slot.0 = true;
            slot.1 |= star;
        };
        if s.not_action {
            let excluded = matched(&s.actions, table);
            (0..table.len()).filter(|i| !excluded[*i]).for_each(&mut mark);
        } else {
            for pattern in &s.actions {
                let hits = table.expand(pattern);
                if hits.is_empty() && !pattern.contains(['*', '?']) && pattern.contains(':') {
                    let entry = unknown.entry(pattern.clone()).or_insert(false);
                    *entry |= star;
                }
                hits.into_iter().for_each(&mut mark);
            }
        }
    }
    for s in statements.iter().filter(|s| s.effect == Effect::Deny) {
        if !s.every_resource || s.conditional {
            continue;
        }
        let hit = matched(&s.actions, table);
        for (i, slot) in known.iter_mut().enumerate() {
            if hit[i] != s.not_action {
                *slot = (false, false);
            }
        }
        if !s.not_action {
            unknown.retain(|a, _| {
                !s.actions.iter().any(|p| {
                    super::actions::wildcard_match(&p.to_ascii_lowercase(), &a.to_ascii_lowercase())
                })
            });
        } else {
            unknown.clear();
        }
    }
    let everything = !known.is_empty() && known.iter().all(|&(allowed, star)| allowed && star);
    let mut allowed: BTreeMap<String, bool> = known
        .iter()
        .enumerate()
        .filter(|(_, (a, _))| *a)
        .map(|(i, (_, star))| (table.get(i).to_string(), *star))
        .collect();
    allowed.extend(unknown);
    Effective { allowed, everything }
}

fn matched(patterns: &[String], table: &ActionTable) -> Vec<bool> {
    let mut hit = vec![false; table.len()];
    for pattern in patterns {
        for i in table.expand(pattern) {
            hit[i] = true;
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::super::actions::table;
    use super::*;
    use serde_json::json;

    fn eval(doc: Value) -> Effective {
        evaluate(&parse(&doc).unwrap(), table())
    }

    #[test]
    fn star_is_everything() {
        let e = eval(json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
        assert!(e.everything);
        let e = eval(json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}));
        assert!(!e.everything);
        assert!(!e.allows("iam:CreateAccessKey"));
        assert!(e.allows("s3:GetObject"));
    }

    #[test]
    fn not_action_and_scoped_deny() {
        let e = eval(json!({"Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}));
        assert!(!e.allows("iam:PassRole"));
        assert!(e.allows("ec2:RunInstances"));
        assert!(e.allows("s3:GetObject"), "a resource-scoped deny leaves other resources");
        let e = eval(json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]}));
        assert_eq!(e.allowed.keys().collect::<Vec<_>>(), ["s3:GetObject"]);
    }

    #[test]
    fn url_encoded_documents_and_unknown_actions() {
        let text = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22s3%3AGetObject%22%2C%22newsvc%3ADoThing%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F*%22%7D%5D%7D";
        let e = evaluate(&parse_text(text).unwrap(), table());
        assert!(e.allows("s3:GetObject"));
        assert!(!e.allows_on_every_resource("s3:GetObject"));
        assert!(e.allows("newsvc:DoThing"));
        assert!(parse(&json!({"Version": "x"})).is_err());
    }
}
