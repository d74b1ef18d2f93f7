//! Rules: what a secret looks like.
//!
//! Rules are data (`rules/*.toml`, embedded at build time, plus a user's `[[rules]]`). This
//! module parses them ([`syntax`]), compiles them into [`Rule`]s and a [`RuleSet`], and checks
//! their examples ([`check`]). It does no scanning of its own.

pub mod check;
pub mod syntax;

use std::{collections::HashMap, sync::OnceLock};

use regex_automata::{meta, util::syntax as re_syntax};

use crate::parse_error::ParseError;

pub use syntax::{RuleSyntax, Severity, Validator};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// Default bytes before a keyword hit that a rule's regex may see.
pub const DEFAULT_WINDOW_BEFORE: usize = 128;
/// Default bytes after a keyword hit that a rule's regex may see.
pub const DEFAULT_WINDOW_AFTER: usize = 256;

/// The error returned by [`RuleSet::builder`] operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file is not valid TOML or has unknown fields.
    #[error("cannot parse rules from {origin}")]
    Parse {
        /// Where the text came from.
        origin: String,
        /// The TOML error.
        #[source]
        source: ParseError,
    },
    /// A rule id is empty or has characters outside `[a-z0-9._-]`.
    #[error("rule {id:?}: id must be non-empty lowercase [a-z0-9._-]")]
    BadId {
        /// The id.
        id: String,
    },
    /// Two rules share an id.
    #[error("rule {id}: duplicate id (first defined in {first}, again in {second})")]
    Duplicate {
        /// The id.
        id: String,
        /// Origin of the first definition.
        first: String,
        /// Origin of the second.
        second: String,
    },
    /// A rule has no keywords, so the prefilter could never select it.
    #[error("rule {id}: has no keywords (every rule needs at least one prefilter literal)")]
    NoKeywords {
        /// The id.
        id: String,
    },
    /// A keyword is too short to be a useful prefilter.
    #[error("rule {id}: keyword {keyword:?} is shorter than 3 bytes")]
    ShortKeyword {
        /// The id.
        id: String,
        /// The keyword.
        keyword: String,
    },
    /// The regex does not compile.
    #[error("rule {id}: invalid regex")]
    Regex {
        /// The id.
        id: String,
        /// Why.
        #[source]
        source: Box<meta::BuildError>,
    },
    /// The regex has no `secret` group.
    #[error("rule {id}: regex has no capture group named `secret`")]
    NoSecretGroup {
        /// The id.
        id: String,
    },
    /// An example or negative example did not behave.
    #[error("rule {id}: {problem}")]
    Example {
        /// The id.
        id: String,
        /// What went wrong, naming the example.
        problem: String,
    },
}

/// Index of a rule in its [`RuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIdx(pub u32);

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// The rule as written.
    pub syntax: RuleSyntax,
    /// Where it was defined (a builtin file name or a config path).
    pub origin: String,
    /// Keywords, lowercased.
    pub keywords: Vec<String>,
    /// The confirming regex, compiled on first use: most rules never see a keyword hit in a
    /// given scan, and compiling all of them up front cost ~30 ms per run (a pre-commit hook
    /// pays that on every commit).
    compiled: OnceLock<Result<Compiled, String>>,
    /// Bytes before a keyword hit the regex may see.
    pub window_before: usize,
    /// Bytes after a keyword hit the regex may see.
    pub window_after: usize,
}

/// A rule's regex, compiled.
#[derive(Debug)]
pub struct Compiled {
    /// The confirming regex.
    pub regex: meta::Regex,
    /// Index of the `secret` capture group.
    pub secret_group: usize,
}

impl Rule {
    /// The compiled regex; `None` only for a built-in rule whose regex is broken, which
    /// `cargo test` rules out (user rules are compiled when loaded, see [`RuleSetBuilder::add`]).
    pub fn compiled(&self) -> Option<&Compiled> {
        self.compile_now().as_ref().ok()
    }

    fn compile_now(&self) -> &Result<Compiled, String> {
        self.compiled.get_or_init(|| {
            let regex = compile_regex(&self.syntax.regex).map_err(|e| e.to_string())?;
            let secret_group = regex
                .group_info()
                .to_index(regex_automata::PatternID::ZERO, "secret")
                .ok_or_else(|| "regex has no capture group named `secret`".to_string())?;
            Ok(Compiled { regex, secret_group })
        })
    }

    /// The rule id.
    pub fn id(&self) -> &str {
        &self.syntax.id
    }

    /// The rule's severity as written.
    pub fn severity(&self) -> Severity {
        self.syntax.severity
    }

    /// Compiles the regex now, reporting why it fails.
    ///
    /// # Errors
    /// An invalid regex or one without a `secret` group, naming the rule.
    pub fn check_regex(&self) -> Result<(), Error> {
        let id = self.id().to_string();
        match self.compile_now() {
            Ok(_) => Ok(()),
            Err(_) => match compile_regex(&self.syntax.regex) {
                Err(source) => Err(Error::Regex { id, source }),
                Ok(_) => Err(Error::NoSecretGroup { id }),
            },
        }
    }

    fn compile(syntax: RuleSyntax, origin: &str) -> Result<Rule, Error> {
        let id = syntax.id.clone();
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !id_ok {
            return Err(Error::BadId { id });
        }
        if syntax.keywords.is_empty() {
            return Err(Error::NoKeywords { id });
        }
        if let Some(short) = syntax.keywords.iter().find(|k| k.len() < 3) {
            return Err(Error::ShortKeyword { id, keyword: short.clone() });
        }
        Ok(Rule {
            keywords: syntax.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            compiled: OnceLock::new(),
            window_before: syntax.window_before.unwrap_or(DEFAULT_WINDOW_BEFORE),
            window_after: syntax.window_after.unwrap_or(DEFAULT_WINDOW_AFTER),
            origin: origin.to_string(),
            syntax,
        })
    }
}

/// Compiles a pattern the way every rule is compiled: bytes, ASCII classes, no UTF-8 demands.
///
/// Unicode is off because haystacks are arbitrary bytes and every token alphabet we match is
/// ASCII; it also keeps the lazy DFA from giving up on non-ASCII word boundaries.
pub fn compile_regex(pattern: &str) -> Result<meta::Regex, Box<meta::BuildError>> {
    meta::Regex::builder()
        .syntax(re_syntax::Config::new().unicode(false).utf8(false))
        .configure(meta::Config::new().utf8_empty(false).hybrid_cache_capacity(1 << 20))
        .build(pattern)
        .map_err(Box::new)
}

/// An immutable, compiled set of rules.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Starts an empty builder.
    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// The built-in rules alone.
    ///
    /// # Errors
    /// Only if an embedded rule file is broken, which `cargo test` rules out.
    pub fn builtin() -> Result<RuleSet, Error> {
        let mut builder = RuleSet::builder();
        builder.add_builtin()?;
        Ok(builder.build())
    }

    /// All rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// One rule.
    pub fn get(&self, idx: RuleIdx) -> &Rule {
        &self.rules[idx.0 as usize]
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Finds a rule by id.
    pub fn find(&self, id: &str) -> Option<RuleIdx> {
        self.rules.iter().position(|r| r.id() == id).map(|i| RuleIdx(i as u32))
    }
}

/// Collects rules from several origins, rejecting duplicates.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    rules: Vec<Rule>,
    seen: HashMap<String, String>,
}

impl RuleSetBuilder {
    /// Adds every embedded `rules/*.toml` file.
    ///
    /// # Errors
    /// See [`RuleSetBuilder::add_toml`].
    pub fn add_builtin(&mut self) -> Result<&mut Self, Error> {
        for (name, text) in builtin::BUILTIN_RULE_FILES {
            let origin = format!("builtin rules/{name}");
            let file: syntax::RuleFile = toml::from_str(text).map_err(|e| Error::Parse {
                origin: origin.clone(),
                source: ParseError::toml(&e, text),
            })?;
            for rule in file.rules {
                self.add_lazily(rule, &origin, true)?;
            }
        }
        Ok(self)
    }

    /// Parses a TOML text with `[[rules]]` and adds its rules.
    ///
    /// # Errors
    /// A parse error names `origin`; a rule error names the rule.
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<&mut Self, Error> {
        let file: syntax::RuleFile = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_string(),
            source: ParseError::toml(&e, text),
        })?;
        for rule in file.rules {
            self.add(rule, origin)?;
        }
        Ok(self)
    }

    /// Adds one parsed rule, compiling its regex now so that a broken rule fails at load.
    ///
    /// # Errors
    /// A duplicate id, a missing keyword, a bad regex or a missing `secret` group.
    pub fn add(&mut self, syntax: RuleSyntax, origin: &str) -> Result<&mut Self, Error> {
        self.add_lazily(syntax, origin, false)
    }

    fn add_lazily(
        &mut self,
        syntax: RuleSyntax,
        origin: &str,
        lazy: bool,
    ) -> Result<&mut Self, Error> {
        if let Some(first) = self.seen.get(&syntax.id) {
            return Err(Error::Duplicate {
                id: syntax.id.clone(),
                first: first.clone(),
                second: origin.to_string(),
            });
        }
        let rule = Rule::compile(syntax, origin)?;
        if !lazy {
            rule.check_regex()?;
        }
        self.seen.insert(rule.id().to_string(), origin.to_string());
        self.rules.push(rule);
        Ok(self)
    }

    /// Number of rules added so far.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule was added.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Finishes the set.
    pub fn build(self) -> RuleSet {
        RuleSet { rules: self.rules }
    }
}
