//! Secret values and their redaction.
//!
//! A [`Secret`]'s `Debug` and `Display` print only the redacted form, so a secret cannot reach a
//! log line or an error message by accident; writers call [`Secret::render`] with the user's
//! `--show-secrets` choice.

use std::fmt;

/// A secret value (normalized: escapes removed) that redacts itself when printed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    /// Wraps raw bytes, replacing invalid UTF-8.
    pub fn new(bytes: &[u8]) -> Secret {
        Secret(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The full value. Call only to verify it or when the user asked to see secrets.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form: a short prefix, then `*` (at most 16) for the rest.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The full value when `show` is set, else the redacted form.
    pub fn render(&self, show: bool) -> String {
        if show { self.0.clone() } else { self.redacted() }
    }

    /// Length in characters.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Keeps a prefix that identifies the token type (4 chars of a long secret, 2 of a medium one,
/// none of a short one) and masks the rest.
pub fn redact(value: &str) -> String {
    let len = value.chars().count();
    let keep = match len {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let prefix: String = value.chars().take(keep).collect();
    let stars = (len - keep).clamp(3, 16);
    format!("{prefix}{}", "*".repeat(stars))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_a_prefix() {
        assert_eq!(redact("AKIARZPUZDIKMDS4CW3C"), "AKIA****************");
        assert_eq!(redact("hunter2"), "*******");
        assert_eq!(redact("abcdefghij"), "ab********");
        assert_eq!(
            format!("{:?}", Secret::new(b"AKIARZPUZDIKMDS4CW3C")),
            "Secret(AKIA****************)"
        );
    }
}
