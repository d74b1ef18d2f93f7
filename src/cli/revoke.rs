//! `keysweep revoke`: gather the key (stdin, report, store, --key-id), deactivate it or say what
//! would be done, record the outcome in the store, and print the follow-up.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use anyhow::{Context as _, bail};
use keysweep::redact::{Secret, redact};
use keysweep::revoke::followup::{FollowUp, follow_up};
use keysweep::revoke::input::{self, KeyPair, Reported};
use keysweep::revoke::profile;
use keysweep::revoke::{Revocation, Revoker, Target};
use keysweep::store::Store;
use keysweep::verify::Credential;
use keysweep::verify::aws::{
    Endpoint, GLOBAL_IAM_ENDPOINT, GLOBAL_STS_ENDPOINT, endpoint_url, is_key_id,
};
use serde::Serialize;

use super::Outcome;
use super::args::{RevokeArgs, RevokeFormat};

/// Runs `keysweep revoke`.
pub fn revoke(args: &RevokeArgs) -> anyhow::Result<Outcome> {
    if let Some(key_id) = &args.key_id
        && !is_key_id(key_id)
    {
        bail!("--key-id {} is not an AWS access key id (AKIA..., 20 characters)", redact(key_id));
    }
    let (reported, store) = finding(args)?;
    let pair = key(args, &reported)?;
    let as_admin = admin(args);
    let signer = if let Some(profile) = &args.profile {
        profile::read(&profile::credentials_file(), profile)?
    } else if as_admin {
        admin_credential()?
    } else {
        let secret = pair.secret.clone().context(
            "the key's secret is needed to act with the key's own rights: give `KEY_ID SECRET` \
             on standard input, a report written with --show-secrets, or use --as-admin",
        )?;
        Credential { id: pair.key_id.clone(), secret, token: None }
    };
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = |flag: &Option<String>, service, default| {
        let url = endpoint_url(flag.as_deref(), service, default, env);
        Endpoint::parse(&url, false).with_context(|| format!("--{service}-endpoint"))
    };
    let revoker = Revoker::new(
        endpoint(&args.iam_endpoint, "iam", GLOBAL_IAM_ENDPOINT)?,
        endpoint(&args.sts_endpoint, "sts", GLOBAL_STS_ENDPOINT)?,
        &args.region,
        Duration::from_secs(args.timeout),
    );
    let target = Target { key_id: pair.key_id.clone(), signer, as_admin };
    let revocation = revoker.revoke(&target, args.yes)?;
    let leaked = reported.first_commit_date.as_deref().and_then(|d| d.parse().ok());
    let next = follow_up(
        &shown_key_id(args, &pair.key_id, "$KEY_ID"),
        revocation.user.as_deref(),
        leaked,
        jiff::Timestamp::now(),
        &args.cloudtrail_regions,
    );
    // The outcome is printed before it is recorded: a store that cannot be written must not
    // hide what was done to the key.
    write(args, &revocation, &next)?;
    let contained = revocation.outcome.is_success();
    if let (Some(store), Some(fingerprint), true) = (&store, &args.fingerprint, args.yes) {
        let recorded = store.record_revocation(
            fingerprint,
            &redact(&pair.key_id),
            revocation.user.as_deref(),
            revocation.outcome.as_str(),
            &revocation.message,
        );
        if let Err(e) = recorded {
            let error = anyhow::Error::from(e).context("cannot record the revocation");
            super::output::warn(&keysweep::report::text::sanitize(&format!("{error:#}")));
            return Ok(if contained { Outcome::Failed } else { Outcome::Found });
        }
    }
    Ok(if contained { Outcome::Clean } else { Outcome::Found })
}

/// The finding named by --fingerprint, from the report or the store (which stays open to
/// record the outcome).
fn finding(args: &RevokeArgs) -> anyhow::Result<(Reported, Option<Store>)> {
    let Some(fingerprint) = &args.fingerprint else {
        return Ok((Reported::default(), None));
    };
    if let Some(path) = &args.report {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read report {}", path.display()))?;
        let reported = input::from_report(&text, &path.display().to_string(), fingerprint)?;
        return Ok((reported, None));
    }
    let Some(dir) = &args.datastore else {
        bail!("--fingerprint needs --report FILE or --datastore DIR");
    };
    let store = Store::open_existing(dir)?;
    let stored = store.finding_for_revocation(fingerprint)?.with_context(|| {
        format!("no finding with fingerprint {fingerprint} in the store at {}", dir.display())
    })?;
    if let Some(key_id) = &args.key_id
        && !stored.may_be(key_id)
    {
        bail!("--key-id {} is not the key of finding {fingerprint}", redact(key_id));
    }
    let reported = Reported { first_commit_date: stored.first_commit_date, ..Reported::default() };
    Ok((reported, Some(store)))
}

/// The key id and (when known) its secret: from --key-id, the report, or standard input.
fn key(args: &RevokeArgs, reported: &Reported) -> anyhow::Result<KeyPair> {
    if let (Some(given), Some(found)) = (&args.key_id, &reported.key_id)
        && given != found
    {
        bail!("--key-id {} is not the key of the finding in the report", redact(given));
    }
    let key_id = args.key_id.clone().or_else(|| reported.key_id.clone());
    let secret = reported.secret.clone();
    match key_id {
        Some(key_id) if admin(args) || secret.is_some() => Ok(KeyPair { key_id, secret }),
        Some(key_id) => {
            let pair = read_stdin()?;
            if pair.key_id != key_id {
                bail!("standard input holds another key than {}", redact(&key_id));
            }
            Ok(pair)
        }
        None if args.fingerprint.is_some() && args.datastore.is_some() => {
            bail!("the findings store holds no key id: give --key-id (or the key on stdin)")
        }
        None => read_stdin().map_err(|e| {
            if args.fingerprint.is_some() {
                e.context("the report is redacted (no key id): give --key-id, or write the report with --show-secrets")
            } else {
                e
            }
        }),
    }
}

fn read_stdin() -> anyhow::Result<KeyPair> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("cannot read the key from standard input")?;
    Ok(input::parse_pair(&text)?)
}

/// Whether an administrator's credentials sign (`--as-admin`, or a `--profile`).
fn admin(args: &RevokeArgs) -> bool {
    args.as_admin || args.profile.is_some()
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from the environment.
fn admin_credential() -> anyhow::Result<Credential> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) else {
        bail!("--as-admin needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    };
    Ok(Credential {
        id,
        secret: Secret::new(secret.as_bytes()),
        token: var("AWS_SESSION_TOKEN").map(|t| Secret::new(t.as_bytes())),
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    dry_run: bool,
    as_admin: bool,
    #[serde(flatten)]
    revocation: &'a Revocation,
    follow_up: &'a FollowUp,
}

fn write(args: &RevokeArgs, revocation: &Revocation, next: &FollowUp) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.format == RevokeFormat::Json {
        let wire = Wire {
            key_id: &shown_key_id(args, &revocation.key_id, &redact(&revocation.key_id)),
            fingerprint: args.fingerprint.as_deref(),
            dry_run: !args.yes,
            as_admin: admin(args),
            revocation,
            follow_up: next,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&wire)?)?;
        return Ok(());
    }
    let user = revocation.user.as_deref().map(|u| format!(" (IAM user {u})")).unwrap_or_default();
    let dry = if args.yes { "" } else { " [dry run]" };
    let key_id = shown_key_id(args, &revocation.key_id, &redact(&revocation.key_id));
    let head = format!("{key_id}{user}: {}{dry}", revocation.outcome.as_str());
    writeln!(out, "{}", keysweep::report::text::sanitize(&head))?;
    writeln!(out, "  {}", keysweep::report::text::sanitize(&revocation.message))?;
    writeln!(out)?;
    writeln!(
        out,
        "Next: what did the key do? Exposure window {} ({}) to {} (now).",
        next.start, next.start_from, next.end
    )?;
    writeln!(out, "  {}:", next.note)?;
    if !args.show_secrets {
        let hidden = redact(&revocation.key_id);
        writeln!(
            out,
            "    KEY_ID={hidden}   # the key id in full (--show-secrets prints it here)"
        )?;
    }
    for command in &next.cloudtrail {
        writeln!(out, "    {command}")?;
    }
    writeln!(out, "Then rotate:")?;
    for (n, step) in next.rotation.iter().enumerate() {
        writeln!(out, "  {}. {step}", n + 1)?;
    }
    Ok(())
}

/// The key id as revoke prints it: in full with --show-secrets, else `hidden` (redacted, or a
/// shell variable in the follow-up commands), as every other output hides a found key.
fn shown_key_id(args: &RevokeArgs, key_id: &str, hidden: &str) -> String {
    if args.show_secrets { key_id.to_string() } else { hidden.to_string() }
}
