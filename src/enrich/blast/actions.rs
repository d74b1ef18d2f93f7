//! The table of IAM actions that wildcards expand against (`data/iam-actions.txt`, generated from
//! botocore's service models by `scripts/gen-iam-actions.py` and committed as data).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../data/iam-actions.txt");

/// Every known action, sorted by service then name, with a case-insensitive index.
#[derive(Debug)]
pub struct ActionTable {
    actions: Vec<&'static str>,
    lower: Vec<String>,
    services: HashMap<String, Range<usize>>,
    index: HashMap<String, usize>,
}

/// The table shipped with keysweep.
pub fn table() -> &'static ActionTable {
    static CELL: OnceLock<ActionTable> = OnceLock::new();
    CELL.get_or_init(|| ActionTable::new(TABLE))
}

impl ActionTable {
    /// Builds a table from `service:Action` lines (`#` comments and blank lines ignored).
    pub fn new(text: &'static str) -> ActionTable {
        let mut actions: Vec<&'static str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && l.contains(':'))
            .collect();
        actions.sort_by_cached_key(|a| a.to_ascii_lowercase());
        actions.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let lower: Vec<String> = actions.iter().map(|a| a.to_ascii_lowercase()).collect();
        let mut services: HashMap<String, Range<usize>> = HashMap::new();
        for (i, action) in lower.iter().enumerate() {
            let service = action.split(':').next().unwrap_or_default().to_string();
            services.entry(service).and_modify(|r| r.end = i + 1).or_insert(i..i + 1);
        }
        let index = lower.iter().enumerate().map(|(i, a)| (a.clone(), i)).collect();
        ActionTable { actions, lower, services, index }
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The action at `i`.
    pub fn get(&self, i: usize) -> &'static str {
        self.actions[i]
    }

    /// The index of an exact action (case-insensitive).
    pub fn find(&self, action: &str) -> Option<usize> {
        self.index.get(&action.to_ascii_lowercase()).copied()
    }

    /// Indexes of every action `pattern` (`s3:Get*`, `iam:*`, `*`, `ec2:?escribe*`) matches,
    /// case-insensitively.
    pub fn expand(&self, pattern: &str) -> Vec<usize> {
        let pattern = pattern.trim().to_ascii_lowercase();
        if pattern == "*" || pattern == "*:*" {
            return (0..self.len()).collect();
        }
        let range = match pattern.split_once(':') {
            Some((service, _)) if !service.contains(['*', '?']) => {
                match self.services.get(service) {
                    Some(range) => range.clone(),
                    None => return Vec::new(),
                }
            }
            _ => 0..self.len(),
        };
        range.filter(|&i| wildcard_match(&pattern, &self.lower[i])).collect()
    }
}

/// `*` matches any run (including none), `?` any one character; both lowercase already.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("s3:get*", "s3:getobject"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("iam:*accesskey*", "iam:createaccesskey"));
        assert!(wildcard_match("ec2:?escribe*", "ec2:describeinstances"));
        assert!(!wildcard_match("s3:get*", "s3:putobject"));
        assert!(!wildcard_match("s3:getobject", "s3:getobjectacl"));
    }

    #[test]
    fn shipped_table_expands() {
        let t = table();
        assert!(t.len() > 10_000, "the table has {} actions", t.len());
        let s3_get: Vec<&str> = t.expand("s3:Get*").into_iter().map(|i| t.get(i)).collect();
        assert!(s3_get.contains(&"s3:GetObject"));
        assert!(s3_get.iter().all(|a| a.starts_with("s3:Get")));
        assert!(t.find("IAM:createaccesskey").is_some());
        assert!(t.find("iam:PassRole").is_some());
        assert!(t.find("s3:ListBucket").is_some());
        assert_eq!(t.expand("*").len(), t.len());
        assert!(t.expand("nosuchservice:*").is_empty());
    }
}
