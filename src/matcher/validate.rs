//! Filters a rule's regex match must pass: placeholders, entropy and structural validators.
//!
//! Pure functions over bytes; the matcher calls [`accept`] on every regex match.

use std::borrow::Cow;

use base64::Engine as _;

use crate::rules::{Rule, Validator};

/// Substrings (lowercase) that mark a documentation value or a template, not a credential.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "xxxxx",
    "fake",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "changeme",
    "redacted",
    "*****",
    "<",
    ">",
    "${",
    "{{",
    "$(",
    "%s",
];

/// Whole values (lowercase) that are placeholders.
const PLACEHOLDER_VALUES: &[&str] =
    &["password", "passwd", "pass", "secret", "token", "admin", "root", "test", "user", "username"];

/// True when the secret passes every filter of its rule. `after` is the haystack after it.
pub fn accept(rule: &Rule, secret: &[u8], after: &[u8]) -> bool {
    let normalized = normalize(rule.syntax.validate, secret);
    if is_placeholder(&normalized) {
        return false;
    }
    if let Some(min) = rule.syntax.entropy
        && shannon_entropy(&normalized) < min
    {
        return false;
    }
    match rule.syntax.validate {
        None => true,
        Some(Validator::AwsAccessKeyId) => aws_access_key_id(&normalized),
        Some(Validator::AwsSecretAccessKey) => {
            aws_secret_access_key(&normalized) && !continues_encoded(after)
        }
        Some(Validator::AwsSessionToken) => aws_session_token(&normalized),
        Some(Validator::GithubChecksum) => github_checksum(&normalized),
        Some(Validator::Jwt) => jwt(&normalized),
        Some(Validator::PrivateKey) => private_key(&normalized) == Some(false),
        Some(Validator::PrivateKeyEncrypted) => private_key(&normalized) == Some(true),
    }
}

/// The secret as a service would receive it: AWS secrets lose JSON and URL escapes.
pub fn normalize(validator: Option<Validator>, raw: &[u8]) -> Cow<'_, [u8]> {
    if validator != Some(Validator::AwsSecretAccessKey)
        || !raw.iter().any(|&b| b == b'\\' || b == b'%')
    {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\\' => i += 1,
            b'%' if raw.len() >= i + 3 => {
                match (raw[i + 1], raw[i + 2].to_ascii_uppercase()) {
                    (b'2', b'F') => out.push(b'/'),
                    (b'2', b'B') => out.push(b'+'),
                    _ => out.extend_from_slice(&raw[i..i + 3]),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// True for documentation values, templates and obvious stand-ins.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_VALUES.iter().any(|v| lower == v.as_bytes()) {
        return true;
    }
    PLACEHOLDER_PARTS.iter().any(|p| memchr::memmem::find(&lower, p.as_bytes()).is_some())
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / len).map(|p| -p * p.log2()).sum()
}

/// An AWS secret continues past the match if the next bytes are an escaped `/` or `+`.
pub fn continues_encoded(after: &[u8]) -> bool {
    let lower: Vec<u8> = after.iter().take(3).map(|b| b.to_ascii_lowercase()).collect();
    lower.starts_with(b"%2f") || lower.starts_with(b"%2b") || lower.starts_with(b"\\/")
}

const AWS_KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `AKIA`/`ASIA`/`A3T?` followed by 16 base32 characters.
pub fn aws_access_key_id(id: &[u8]) -> bool {
    id.len() == 20
        && (id.starts_with(b"AKIA")
            || id.starts_with(b"ASIA")
            || (id.starts_with(b"A3T") && id[3].is_ascii_uppercase() | id[3].is_ascii_digit()))
        && id[4..].iter().all(|b| AWS_KEY_ID_ALPHABET.contains(b))
}

/// 40 base64 characters that look random: both cases, a digit or symbol, high entropy.
pub fn aws_secret_access_key(secret: &[u8]) -> bool {
    secret.len() == 40
        && secret.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && secret.iter().any(u8::is_ascii_uppercase)
        && secret.iter().any(u8::is_ascii_lowercase)
        && secret.iter().any(|&b| b.is_ascii_digit() || b == b'/' || b == b'+')
        && shannon_entropy(secret) >= 4.0
}

/// A long, high-entropy base64 string.
pub fn aws_session_token(token: &[u8]) -> bool {
    token.len() >= 100
        && token.iter().all(|&b| b.is_ascii_alphanumeric() || b"/+=".contains(&b))
        && shannon_entropy(token) >= 4.5
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// GitHub and npm tokens: the last 6 characters are base62(CRC32) of the 30 before them.
pub fn github_checksum(token: &[u8]) -> bool {
    let Some(underscore) = token.iter().rposition(|&b| b == b'_') else { return false };
    let body = &token[underscore + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    let mut crc = crc32fast::hash(random) as u64;
    let mut encoded = [b'0'; 6];
    for slot in encoded.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    crc == 0 && encoded == check
}

/// `header.payload.signature` whose header is a JSON object with `alg` and payload an object.
pub fn jwt(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else { return false };
    let decode = |part: &[u8]| -> Option<serde_json::Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.strip_suffix(b"=").unwrap_or(part).strip_suffix(b"=").unwrap_or(part))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header_ok = decode(header).is_some_and(|h| h.get("alg").is_some());
    header_ok && decode(payload).is_some_and(|p| p.is_object())
}

/// For a PEM or OpenSSH private key block: `Some(encrypted?)`, or `None` when the body is too
/// short or malformed to be a key.
pub fn private_key(block: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(block).replace("\\r", "\n").replace("\\n", "\n");
    let mut encrypted = text.contains("ENCRYPTED");
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----") && !line.contains(':'))
        .flat_map(|line| line.chars())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '=')
        .collect();
    let base64_len = body.trim_end_matches('=').len();
    if base64_len < 64 {
        return None;
    }
    if text.contains("OPENSSH PRIVATE KEY") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(&body).ok()?;
        let rest = decoded.strip_prefix(b"openssh-key-v1\0")?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let cipher = rest.get(4..4 + len)?;
        encrypted = cipher != b"none";
    }
    Some(encrypted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"${AWS_SECRET}"));
        assert!(is_placeholder(b"Password"));
        assert!(!is_placeholder(b"AKIAZ3QPLM7VXYT2R4GH"));
    }

    #[test]
    fn github_checksum_round_trip() {
        let random = b"AbCdEfGhIjKlMnOpQrStUvWxYz0123";
        let mut crc = crc32fast::hash(random) as u64;
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = BASE62[(crc % 62) as usize];
            crc /= 62;
        }
        let mut token = b"ghp_".to_vec();
        token.extend_from_slice(random);
        token.extend_from_slice(&check);
        assert!(github_checksum(&token));
        let last = token.len() - 1;
        token[last] = if token[last] == b'a' { b'b' } else { b'a' };
        assert!(!github_checksum(&token));
    }

    #[test]
    fn aws_secret_unescaped() {
        let raw = br"abcdEFGH12\/ijkl%2FMNOP34+qrstUVWX56yzAB7";
        let normalized = normalize(Some(Validator::AwsSecretAccessKey), raw);
        assert_eq!(&*normalized, b"abcdEFGH12/ijkl/MNOP34+qrstUVWX56yzAB7");
    }
}
