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
        Some(Validator::GenericSecret) => {
            generic_secret(&normalized) && !code_not_value(&normalized, after)
        }
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

/// Prefixes (lowercase) of tokens that a provider rule owns. When that rule turned a value down
/// (a broken checksum, a test-mode key, a malformed JWT) the generic rule must not report it.
const PROVIDER_PREFIXES: &[&str] = &[
    "akia",
    "asia",
    "a3t",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glft-",
    "glsoat-",
    "glffct-",
    "glimt-",
    "glagent-",
    "gloas-",
    "glptt-",
    "glrt-",
    "glcbt-",
    "gr1348941",
    "sk_test_",
    "pk_test_",
    "rk_test_",
    "sk_live_",
    "pk_live_",
    "rk_live_",
    "whsec_",
    "xox",
    "xapp-",
    "sk-",
    "aiza",
    "npm_",
    "pypi-",
    "hf_",
    "api_org_",
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "dckr_",
    "sg.",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "hrku-",
    "key-",
    "eyj",
    "iqojb3jpz2lux2vj",
    "fwogzxivyxdze",
];

/// The `generic-secret` validator: a value assigned to a secret-named variable is a secret
/// unless it is a reference (`$VAR`, `%VAR%`, `process.env.X`, `self.token`, `vault:...`,
/// `arn:...`), a file path, a URL without credentials, a UUID, a digest (`sha512-...`, `h1:...`,
/// a 40-hex git id), a number, date or version, an identifier-like word, a test or truncated
/// value, or a token a provider rule owns by its prefix. The value's entropy is the rule's
/// `entropy` field, checked before this.
pub fn generic_secret(value: &[u8]) -> bool {
    const REFERENCE_PREFIXES: &[&str] = &[
        "$",
        "%",
        "vault:",
        "arn:",
        "env:",
        "ssm:",
        "secret:",
        "secrets:",
        "secretsmanager:",
        "ref+",
        "file:",
        "keyvault:",
        "akv:",
        "gcp:",
        "op:",
        "projects/",
    ];
    const DIGEST_PREFIXES: &[&str] = &[
        "sha1-", "sha256-", "sha384-", "sha512-", "sha1:", "sha256:", "sha384:", "sha512:", "md5:",
        "md5-", "h1:",
    ];
    const FILE_EXTENSIONS: &[&str] = &[
        ".pem",
        ".key",
        ".crt",
        ".cer",
        ".der",
        ".p8",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".json",
        ".yaml",
        ".yml",
        ".toml",
        ".txt",
        ".env",
        ".gpg",
        ".asc",
        ".pub",
        ".conf",
    ];
    const TEST_PARTS: &[&str] = &[
        "test", "mock", "invalid", "notreal", "not-a-", "not_a_", "foobar", "lorem", "1234567",
        "abcdefg", "qwerty", "...", "***",
    ];
    let lower = value.to_ascii_lowercase();
    let starts = |list: &[&str]| list.iter().any(|p| lower.starts_with(p.as_bytes()));
    let has = |part: &str| memchr::memmem::find(&lower, part.as_bytes()).is_some();
    let is_word = |w: &[u8]| {
        w.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && w.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    // `self.token`, `process.env.X`, `windows_sys::core::PWSTR`, `kms:Decrypt`: an expression,
    // a type or an action name, not a value.
    let mut parts = value.split(|&b| b == b'.' || b == b':').filter(|p| !p.is_empty());
    let dotted_identifier =
        value.iter().any(|b| b".:".contains(b)) && parts.clone().count() >= 2 && parts.all(is_word);
    // `CLIENT_TRAFFIC_SECRET_0`, `default_api_key_v2`: a constant's or variable's name.
    let digits = value.iter().filter(|b| b.is_ascii_digit()).count();
    let constant_name = is_word(value)
        && value.contains(&b'_')
        && digits <= 2
        && !(value.iter().any(u8::is_ascii_uppercase) && value.iter().any(u8::is_ascii_lowercase));
    let path = value.starts_with(b"/")
        || value.starts_with(b"./")
        || value.starts_with(b"../")
        || value.starts_with(b"~/")
        || (value.len() > 2
            && value[0].is_ascii_alphabetic()
            && value[1] == b':'
            && (value[2] == b'\\' || value[2] == b'/'))
        || FILE_EXTENSIONS.iter().any(|e| lower.ends_with(e.as_bytes()));
    // A URL is a finding only with `user:password@` in its authority.
    let plain_url = memchr::memmem::find(&lower, b"://").is_some_and(|at| {
        let rest = &value[at + 3..];
        let authority = rest.split(|&b| b == b'/').next().unwrap_or(rest);
        !(authority.contains(&b'@') && authority.contains(&b':'))
    });
    let uuid = value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    // MD5, SHA-1 and SHA-256 digests in hex (checksums, ETags, content ids, confirmation
    // links): too often not a secret for a rule that knows nothing of the value's issuer.
    let digest = starts(DIGEST_PREFIXES)
        || (matches!(value.len(), 32 | 40 | 64) && value.iter().all(u8::is_ascii_hexdigit));
    let number_like = value.iter().all(|b| b.is_ascii_digit() || b".:-_+/ TZ".contains(b));
    // Words and constants (`SuperSecretValue`, `DEFAULT_TOKEN`, `bearer-token-name`): letters
    // only, unless long, unseparated and mixed-case like a random letter token.
    let letters = value.iter().all(|b| b.is_ascii_alphabetic() || b"_-.".contains(b));
    let word_like = letters
        && (value.len() < 24
            || value.iter().any(|b| b"_-.".contains(b))
            || !value.iter().any(u8::is_ascii_uppercase)
            || !value.iter().any(u8::is_ascii_lowercase));
    !(starts(REFERENCE_PREFIXES)
        || starts(PROVIDER_PREFIXES)
        || TEST_PARTS.iter().any(|p| has(p))
        || dotted_identifier
        || constant_name
        || path
        || plain_url
        || uuid
        || digest
        || number_like
        || word_like)
}

/// A generic match that is code, not a value: a name that itself says secret
/// (`kSecAccessControlApplicationPassword`, `x25519_generate_private_key`), or an unquoted
/// identifier or expression a statement, argument list or declaration goes on after
/// (`= client_pk^server_sk;`, `: X509RequestInheritOptions = 3i32;`) whose letters read like
/// words (a third or more vowels; a random token of letters and digits has about a fifth).
fn code_not_value(value: &[u8], after: &[u8]) -> bool {
    const SECRET_WORDS: &[&str] =
        &["secret", "passw", "private", "token", "apikey", "api_key", "credential"];
    let lower = value.to_ascii_lowercase();
    if SECRET_WORDS.iter().any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some()) {
        return true;
    }
    let next = after.iter().find(|b| !matches!(b, b' ' | b'\t'));
    if !next.is_some_and(|b| b";,)={".contains(b)) {
        return false;
    }
    if value.first() == Some(&b'!') || value.contains(&b'^') {
        return true;
    }
    let identifier = value.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let letters = value.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let vowels = lower.iter().filter(|b| b"aeiou".contains(b)).count();
    identifier && letters >= 8 && vowels * 10 >= letters * 3
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
    fn generic_secret_values() {
        for value in
            ["q7Vt2mRk9xLp4Zs8Wc", "x!2c!3M480fhcS3t*GNbjOOKw*r4", "Kp7Vq3mZ9xT2rW8nL4sYabcdQ"]
        {
            assert!(generic_secret(value.as_bytes()), "{value} should be a secret");
        }
        for value in [
            "$DB_PASSWORD",
            "process.env.API_KEY",
            "self.client_secret",
            "vault:secret/data/web",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            "/run/secrets/db_password",
            "./certs/client-key.pem",
            "https://auth.acme.test/oauth/token",
            "3f2b8c1e-9d4a-4e7b-a1c6-5f8e2d9b0c74",
            "9c1185a5c5e9fc54612808977ee8f548b2258d31",
            "3ab95c06fc31ab69106bab81bcdda6a0",
            "sha512-Vq3mZ9xT2rW8nL4sYKp7",
            "2026-01-01T00:00:00Z",
            "SuperSecretValue",
            "test_key_Vq3mZ9xT2rW8",
            "ghp_Tr5KtQ2I2o6VdmObt1el3e6ye0zgKD0rWyma",
            "::windows_sys::core::PWSTR",
            "kms:Decrypt",
            "CLIENT_TRAFFIC_SECRET_0",
        ] {
            assert!(!generic_secret(value.as_bytes()), "{value} should not be a secret");
        }
        assert!(generic_secret(b"https://deploy:Vq3mZ9xT2rW8@git.acme.internal/app.git"));
    }

    #[test]
    fn generic_code_is_not_a_value() {
        for (value, after) in [
            ("client_pk^server_sk", ";\n"),
            ("!!extended_master_secret", ";\n"),
            ("x25519_generate_private_key", ",\n"),
            ("kSecAccessControlApplicationPassword", ";\n"),
            ("X509RequestInheritOptions", " = 3i32;\n"),
            ("EapUsernamePasswordCredential", ",\n"),
            ("DefaultConnectionHandler", ");\n"),
        ] {
            assert!(code_not_value(value.as_bytes(), after.as_bytes()), "{value}");
        }
        for (value, after) in [
            ("Jx7mQ2vR9tK4pW8zL3sN", "\n"),
            ("Jx7mQ2vR9tK4pW8zL3sN", ";\n"),
            ("Kp7Vq3mZ9xT2rW8nL4sY", "\", \n"),
            ("DefaultConnectionHandler", "\"\n"),
            ("DefaultConnectionHandler", "\n"),
        ] {
            assert!(!code_not_value(value.as_bytes(), after.as_bytes()), "{value} {after:?}");
        }
    }

    #[test]
    fn aws_secret_unescaped() {
        let raw = br"abcdEFGH12\/ijkl%2FMNOP34+qrstUVWX56yzAB7";
        let normalized = normalize(Some(Validator::AwsSecretAccessKey), raw);
        assert_eq!(&*normalized, b"abcdEFGH12/ijkl/MNOP34+qrstUVWX56yzAB7");
    }
}
