//! An administrator's credentials from a named profile of the AWS shared credentials file
//! (`~/.aws/credentials`, or `$AWS_SHARED_CREDENTIALS_FILE`), as `aws --profile NAME` reads
//! them. Static keys only: a profile that gets its keys from SSO, `credential_process` or a
//! role to assume is refused with a message saying to export the keys instead.

use std::path::{Path, PathBuf};

use crate::redact::Secret;
use crate::verify::Credential;

/// Why a profile's credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file cannot be read.
    #[error("cannot read the AWS credentials file {}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No such profile, or one without static keys.
    #[error(
        "profile {profile:?} in {} has no aws_access_key_id and aws_secret_access_key (SSO, \
         credential_process and role profiles are not read: export the keys into \
         AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and use --as-admin)",
        file.display()
    )]
    NoKeys {
        /// The profile asked for.
        profile: String,
        /// The file read.
        file: PathBuf,
    },
}

/// The shared credentials file: `$AWS_SHARED_CREDENTIALS_FILE`, else `$HOME/.aws/credentials`.
pub fn credentials_file() -> PathBuf {
    match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let home = std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from);
            home.join(".aws").join("credentials")
        }
    }
}

/// Reads profile `profile` from `file`.
///
/// # Errors
/// The file cannot be read, or the profile has no static keys.
pub fn read(file: &Path, profile: &str) -> Result<Credential, ProfileError> {
    let text = std::fs::read_to_string(file)
        .map_err(|source| ProfileError::Read { file: file.to_path_buf(), source })?;
    parse(&text, profile).ok_or_else(|| ProfileError::NoKeys {
        profile: profile.to_string(),
        file: file.to_path_buf(),
    })
}

/// The static keys of `profile` in an INI text (`[NAME]` or `[profile NAME]` sections).
pub fn parse(text: &str, profile: &str) -> Option<Credential> {
    let (mut id, mut secret, mut token) = (None, None, None);
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = section.trim();
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            inside = name == profile;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if !inside {
            continue;
        }
        let value = value.trim().to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = Some(value),
            "aws_secret_access_key" => secret = Some(value),
            "aws_session_token" => token = Some(value),
            _ => {}
        }
    }
    let (id, secret) = (id.filter(|v| !v.is_empty())?, secret.filter(|v| !v.is_empty())?);
    Some(Credential {
        id,
        secret: Secret::new(secret.as_bytes()),
        token: token.filter(|t| !t.is_empty()).map(|t| Secret::new(t.as_bytes())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
[default]
aws_access_key_id = AKIADEFAULTDEFAULT00
aws_secret_access_key = default-secret

# the incident responder's keys
[profile incident]
AWS_ACCESS_KEY_ID=AKIAINCIDENTINCIDENT
aws_secret_access_key = incident-secret
aws_session_token = incident-token

[sso]
sso_start_url = https://acme.awsapps.com/start
";

    #[test]
    fn reads_the_named_profile_only() {
        let incident = parse(FILE, "incident").expect("incident");
        assert_eq!(incident.id, "AKIAINCIDENTINCIDENT");
        assert_eq!(incident.secret.expose(), "incident-secret");
        assert_eq!(incident.token.as_ref().map(Secret::expose), Some("incident-token"));
        let default = parse(FILE, "default").expect("default");
        assert_eq!(default.id, "AKIADEFAULTDEFAULT00");
        assert!(default.token.is_none());
        assert!(parse(FILE, "sso").is_none());
        assert!(parse(FILE, "missing").is_none());
    }
}
