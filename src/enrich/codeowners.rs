//! CODEOWNERS, with GitHub's semantics: who owns a path.
//!
//! GitHub reads the first of `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS` at the root of
//! the repository. Each line is a gitignore-style pattern and owners; the **last** matching line
//! wins, and a last match with no owners means the path has no owner. Patterns:
//!
//! - `*.js` (no `/`, or only a trailing one): matches at any depth;
//! - `/build/logs/`, `docs/api` (a `/` at the start or in the middle): anchored at the root;
//! - a trailing `/` matches a directory, so everything beneath it;
//! - `*` and `?` stop at `/`; `**` crosses directories (`**/logs`, `docs/**`, `a/**/b`);
//! - a pattern whose last part has no wildcard also matches everything beneath it (`apps`,
//!   `/docs/api`); one whose last part has a wildcard does not (`docs/*` owns
//!   `docs/a.md`, not `docs/sub/b.md`, as GitHub documents).
//!
//! Pure: [`CodeOwners::parse`] takes the file's text; finding and reading the file is the
//! caller's job.

use regex_automata::meta::Regex;

/// Where GitHub looks, in order.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// One line of a CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The pattern as written.
    pub pattern: String,
    /// The owners (`@user`, `@org/team`, e-mail addresses), possibly none.
    pub owners: Vec<String>,
    /// 1-based line number.
    pub line: usize,
    regex: Regex,
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    entries: Vec<Entry>,
    /// Lines whose pattern could not be understood (1-based), skipped.
    pub skipped: Vec<usize>,
}

/// The line that decided a path's owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// The owners; empty when the last matching line names none.
    pub owners: &'a [String],
    /// The pattern.
    pub pattern: &'a str,
    /// Its 1-based line.
    pub line: usize,
}

impl CodeOwners {
    /// Parses the text of a CODEOWNERS file. Comments (`#`), blank lines and GitLab-style
    /// `[Section]` headers are ignored; a pattern that cannot be compiled is skipped and its
    /// line recorded in [`CodeOwners::skipped`].
    pub fn parse(text: &str) -> CodeOwners {
        let mut owners = CodeOwners::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            // A line of only an escape (`\`) holds no word.
            let mut words = split_words(line).into_iter();
            let Some(pattern) = words.next() else {
                owners.skipped.push(i + 1);
                continue;
            };
            let people: Vec<String> = words.take_while(|w| !w.starts_with('#')).collect();
            match compile(&pattern) {
                Some(regex) => {
                    owners.entries.push(Entry { pattern, owners: people, line: i + 1, regex });
                }
                None => owners.skipped.push(i + 1),
            }
        }
        owners
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The last line matching `path` (relative to the repository root, `/`-separated), or
    /// `None` when no line matches.
    pub fn decide(&self, path: &str) -> Option<Decision<'_>> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        self.entries.iter().rev().find(|e| e.regex.is_match(path)).map(|e| Decision {
            owners: &e.owners,
            pattern: &e.pattern,
            line: e.line,
        })
    }

    /// The owners of `path`: empty when nothing matches or the last match names nobody.
    pub fn owners(&self, path: &str) -> &[String] {
        self.decide(path).map_or(&[], |d| d.owners)
    }
}

/// Splits on unescaped whitespace; `\ ` and `\#` stay in the word.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push('\\');
                    word.push(next);
                }
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Compiles one pattern into an anchored regex over a relative path.
fn compile(pattern: &str) -> Option<Regex> {
    let dir_only = pattern.ends_with('/');
    let trimmed = pattern.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.contains('/');
    let body = trimmed.trim_start_matches('/');
    if body.is_empty() {
        // `/` alone: the whole repository.
        return Regex::new("^.*$").ok();
    }
    let last = body.rsplit('/').next().unwrap_or(body);
    let mut re = String::from(if anchored { "^" } else { "^(?:.*/)?" });
    re.push_str(&glob_to_regex(body));
    if body.ends_with("/**") || body == "**" {
        re.push('$');
    } else if dir_only {
        re.push_str("/.*$");
    } else if last.contains(['*', '?']) {
        re.push('$');
    } else {
        re.push_str("(?:/.*)?$");
    }
    Regex::new(&re).ok()
}

fn glob_to_regex(glob: &str) -> String {
    let mut out = String::new();
    let parts: Vec<&str> = glob.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if *part == "**" {
            if last {
                // `x/**`: everything beneath x (the separator was already written).
                out.push_str(".*");
            } else {
                // `**/`: zero or more directories.
                out.push_str("(?:.*/)?");
            }
            continue;
        }
        let mut chars = part.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    // `**` inside a part behaves like `*`.
                    while chars.peek() == Some(&'*') {
                        chars.next();
                    }
                    out.push_str("[^/]*");
                }
                '?' => out.push_str("[^/]"),
                '\\' => {
                    if let Some(next) = chars.next() {
                        out.push_str(&regex_syntax::escape(&next.to_string()));
                    }
                }
                c => out.push_str(&regex_syntax::escape(&c.to_string())),
            }
        }
        if !last {
            out.push('/');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! owns {
        ($file:expr, $( $path:expr => [$($owner:expr),*] ),* $(,)?) => {{
            let co = CodeOwners::parse($file);
            $(
                let want: Vec<&str> = vec![$($owner),*];
                assert_eq!(co.owners($path), want.as_slice(), "owners of {}", $path);
            )*
        }};
    }

    #[test]
    fn a_line_of_only_an_escape_is_skipped_not_a_panic() {
        // Found by the `codeowners` fuzz target (fuzz/regressions/codeowners/).
        let owners = CodeOwners::parse("* @org/platform\n\\\n/src/ @alice\n");
        assert_eq!(owners.entries().len(), 2);
        assert_eq!(owners.skipped, vec![2]);
        assert_eq!(owners.owners("src/main.rs"), ["@alice"]);
    }

    #[test]
    fn last_match_wins() {
        owns!("*       @global\n*.js    @js-owner\n/src/legacy.js  @legacy\n",
            "README.md" => ["@global"],
            "src/app.js" => ["@js-owner"],
            "src/legacy.js" => ["@legacy"],
            "lib/src/legacy.js" => ["@js-owner"],
        );
    }

    #[test]
    fn directories() {
        owns!("apps/ @apps\n/docs/ @docs\n/build/logs/ @logs\ndocs/* @flat\n",
            "apps/x.txt" => ["@apps"],
            "deep/apps/y/z.txt" => ["@apps"],
            "apps" => [],
            "docs/a.md" => ["@flat"],
            "docs/sub/b.md" => ["@docs"],
            "build/logs/today/x.log" => ["@logs"],
            "src/build/logs/x.log" => [],
        );
    }

    #[test]
    fn double_star() {
        owns!("**/logs @any-logs\n/docs/**/api @api\nsecrets/** @sec\n",
            "logs/a" => ["@any-logs"],
            "x/y/logs/a" => ["@any-logs"],
            "docs/api/a.md" => ["@api"],
            "docs/v1/v2/api/a.md" => ["@api"],
            "secrets/a/b/c" => ["@sec"],
            "secrets" => [],
        );
    }

    #[test]
    fn no_owner_when_last_match_names_none() {
        let file = "*  @everyone\n/vendor/\n# comment\n\n/vendor/ours/ @us # trailing\n";
        owns!(file,
            "vendor/lib.c" => [],
            "vendor/ours/x.c" => ["@us"],
            "main.c" => ["@everyone"],
        );
        let co = CodeOwners::parse(file);
        let d = co.decide("vendor/lib.c").unwrap();
        assert_eq!((d.pattern, d.line), ("/vendor/", 2));
        assert!(CodeOwners::parse("/only/ @x").decide("elsewhere.txt").is_none());
    }

    #[test]
    fn anchoring_and_wildcards() {
        owns!("docs/api @a\n?ake* @m\n\\#weird @h\n",
            "docs/api/x" => ["@a"],
            "src/docs/api/x" => [],
            "Makefile" => ["@m"],
            "sub/make.rs" => ["@m"],
            "#weird" => ["@h"],
        );
    }
}
