//! What a responder runs after deactivating a key: the CloudTrail queries over the exposure
//! window and the rotation steps. Text only; nothing here talks to AWS.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// The exposure window when the leak has no commit date: the 90 days CloudTrail's event
/// history keeps.
pub const DEFAULT_WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);

/// The follow-up for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// Start of the exposure window (RFC 3339, UTC, whole seconds).
    pub start: String,
    /// What the start is: `commit date of the leak` or `90 days ago (no commit date)`.
    pub start_from: String,
    /// End of the window: now.
    pub end: String,
    /// One `aws cloudtrail lookup-events` command per region.
    pub cloudtrail: Vec<String>,
    /// Why one command per region.
    pub note: String,
    /// The rotation steps, in order.
    pub rotation: Vec<String>,
}

/// The follow-up for `key_id` of IAM user `user` (when known), leaked at `leaked` (the commit
/// date, when known), as of `now`, with one CloudTrail query per region in `regions`.
pub fn follow_up(
    key_id: &str,
    user: Option<&str>,
    leaked: Option<Timestamp>,
    now: Timestamp,
    regions: &[String],
) -> FollowUp {
    let user = user.unwrap_or("USER");
    let whole = |t: Timestamp| Timestamp::from_second(t.as_second()).unwrap_or(t);
    let (start, start_from) = match leaked {
        Some(t) => (whole(t), "commit date of the leak".to_string()),
        None => (
            whole(now.checked_sub(DEFAULT_WINDOW).unwrap_or(now)),
            "90 days ago (no commit date)".to_string(),
        ),
    };
    let end = whole(now);
    let cloudtrail = regions
        .iter()
        .map(|region| {
            format!(
                "aws cloudtrail lookup-events --region {region} --lookup-attributes \
                 AttributeKey=AccessKeyId,AttributeValue={key_id} --start-time {start} \
                 --end-time {end}"
            )
        })
        .collect();
    let note = "CloudTrail records management events per region: run the query in every region \
                the account uses (IAM and global STS calls are recorded in us-east-1)"
        .to_string();
    let rotation = vec![
        format!(
            "create a new access key for the user (aws iam create-access-key --user-name {user})"
        ),
        "deploy the new key everywhere the old one was used, and check each service works"
            .to_string(),
        format!(
            "after the window is reviewed, delete the old key (aws iam delete-access-key \
             --user-name {user} --access-key-id {key_id})"
        ),
    ];
    FollowUp {
        start: start.to_string(),
        start_from,
        end: end.to_string(),
        cloudtrail,
        note,
        rotation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_cover_the_window() {
        let now: Timestamp = "2026-11-23T23:30:00.5Z".parse().unwrap();
        let leaked: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let regions = ["us-east-1".to_string(), "eu-west-1".to_string()];
        let f = follow_up("AKIAEXAMPLEKEY", Some("ci"), Some(leaked), now, &regions);
        assert_eq!(f.start, "2026-01-02T03:04:05Z");
        assert_eq!(f.end, "2026-11-23T23:30:00Z");
        assert_eq!(
            f.rotation[0],
            "create a new access key for the user (aws iam create-access-key --user-name ci)"
        );
        assert_eq!(
            f.cloudtrail[1],
            "aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes \
             AttributeKey=AccessKeyId,AttributeValue=AKIAEXAMPLEKEY --start-time \
             2026-01-02T03:04:05Z --end-time 2026-11-23T23:30:00Z"
        );
        let f = follow_up("AKIAEXAMPLEKEY", None, None, now, &regions[..1]);
        assert_eq!(f.start, "2026-08-25T23:30:00Z");
        assert_eq!(
            f.rotation[2],
            "after the window is reviewed, delete the old key (aws iam delete-access-key \
             --user-name USER --access-key-id AKIAEXAMPLEKEY)"
        );
        assert_eq!(f.cloudtrail.len(), 1);
    }
}
