//! STUB (replaced by the forge branch): GitHub organisation and GitLab group repository
//! listing. Until that branch lands both functions say the feature is unsupported.

/// The error returned when a listing fails.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// This build cannot list repositories.
    #[error("repository listing is not supported by this build ({0})")]
    Unsupported(&'static str),
}

/// Clone URLs of every repository of GitHub organisation `org`.
///
/// # Errors
/// Always, in this stub.
pub fn github_org_repos(
    _api_base: &str,
    _org: &str,
    _token: Option<&str>,
) -> Result<Vec<String>, ListingError> {
    Err(ListingError::Unsupported("--github-org"))
}

/// Clone URLs of every project of GitLab group `group`.
///
/// # Errors
/// Always, in this stub.
pub fn gitlab_group_repos(
    _api_base: &str,
    _group: &str,
    _token: Option<&str>,
) -> Result<Vec<String>, ListingError> {
    Err(ListingError::Unsupported("--gitlab-group"))
}
