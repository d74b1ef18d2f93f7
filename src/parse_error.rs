//! Parse errors of files that may hold secrets (config, rule files, baselines), told without
//! the file's text.
//!
//! `toml` quotes the offending source line under its message and serde quotes a mistyped
//! string value (`invalid type: string "…"`), so a secret pasted in the wrong place would be
//! echoed to the terminal and into CI logs. This error keeps the position and the message,
//! redacts every quoted value that could be a secret and drops the source line.

use crate::redact::redact;

/// Where a file failed to parse and why, with quoted values redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The parser's message, quoted values redacted.
    pub message: String,
}

impl ParseError {
    /// From a TOML error on `text`.
    pub fn toml(error: &toml::de::Error, text: &str) -> ParseError {
        let start = error.span().map_or(0, |span| span.start.min(text.len()));
        let before = text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ParseError { line, column, message: redact_quoted(error.message().trim_end()) }
    }

    /// From a JSON error.
    pub fn json(error: &serde_json::Error) -> ParseError {
        let full = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = full.strip_suffix(&position).unwrap_or(&full);
        ParseError { line: error.line(), column: error.column(), message: redact_quoted(message) }
    }
}

/// Redacts the inside of every `"…"` and `` `…` `` in `message` unless it reads like a field
/// name (lowercase letters, `_`, `-`, `.`) or is a token of at most two characters (`]`),
/// which is what serde and toml quote besides values.
pub fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = closing(after, quote) else {
            // An unterminated quote: redact everything after it.
            out.push_str(&redact_unless_name(after));
            return out;
        };
        out.push_str(&redact_unless_name(&after[..close]));
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of the quote closing `text` (backslash escapes skipped inside `"…"`).
fn closing(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(at),
            _ => escaped = false,
        }
    }
    None
}

fn redact_unless_name(value: &str) -> String {
    let name_like = value.chars().count() <= 2
        || value.chars().all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '-' | '.' | ' '));
    if name_like { value.to_string() } else { redact(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted_and_field_names_kept() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "QuotedValue0123456", expected a sequence"#),
            r#"invalid type: string "Quot**************", expected a sequence"#
        );
        assert_eq!(
            redact_quoted("unknown field `regexs`, expected one of `paths`, `rules`"),
            "unknown field `regexs`, expected one of `paths`, `rules`"
        );
        assert_eq!(redact_quoted(r#"string "a\"b"#), r#"string "****"#);
    }

    #[test]
    fn toml_errors_keep_the_position_and_drop_the_source_line() {
        let text = "[allowlist]\nregexes = \"QuotedValue0123456\"\n";
        let error = toml::from_str::<toml::Table>("a = 1\nb = [QuotedValue0123456]\n")
            .expect_err("unquoted");
        let parsed = ParseError::toml(&error, "a = 1\nb = [QuotedValue0123456]\n");
        assert_eq!((parsed.line, parsed.column), (2, 6));
        assert!(!parsed.to_string().contains("Value0123"), "{parsed}");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            allowlist: Inner,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            regexes: Vec<String>,
        }
        let error = toml::from_str::<Shape>(text).expect_err("a string, not a list");
        let parsed = ParseError::toml(&error, text);
        assert_eq!((parsed.line, parsed.column), (2, 11));
        assert_eq!(
            parsed.message,
            r#"invalid type: string "Quot**************", expected a sequence"#
        );
    }
}
