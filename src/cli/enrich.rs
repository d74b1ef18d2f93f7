//! `--verify`, `--aws-iam`, `--aws-accounts`...: the command line's enrichment options turned
//! into the library's [`Enricher`], checked before the scan starts so that a bad endpoint or
//! export fails fast (exit 2) instead of after a long scan.
#![allow(clippy::print_stderr)]

use anyhow::Context as _;
use keysweep::{
    enrich::{
        EnrichStats, Enricher,
        accounts::Accounts,
        blast::{
            BlastSources,
            export::{AccessKeys, IamExport},
        },
    },
    verify::{
        VerifyOptions,
        aws::{
            AwsClient, Endpoint, GLOBAL_IAM_ENDPOINT, GLOBAL_STS_ENDPOINT, IAM_VERSION, Sts,
            endpoint_url,
        },
    },
};

use super::args::EnrichArgs;

/// Builds the enricher: checks endpoints, reads the export files.
///
/// # Errors
/// An endpoint that is not allowed, an unreadable or malformed export.
pub fn enricher(args: &EnrichArgs) -> anyhow::Result<Enricher> {
    let env = |name: &str| std::env::var(name).ok();
    let verify = if args.verify {
        let url = endpoint_url(args.sts_endpoint.as_deref(), "sts", GLOBAL_STS_ENDPOINT, env);
        let endpoint = Endpoint::parse(&url, args.allow_insecure_sts).context("--verify")?;
        let options = VerifyOptions {
            concurrency: usize::from(args.verify_concurrency),
            cache: args.verify_cache.clone(),
            cache_ttl: args.verify_cache_ttl,
        };
        Some((Sts::new(endpoint, &args.sts_region, args.verify_timeout), options))
    } else {
        None
    };
    let live = if args.blast_radius {
        let url = endpoint_url(args.iam_endpoint.as_deref(), "iam", GLOBAL_IAM_ENDPOINT, env);
        let endpoint = Endpoint::parse(&url, args.allow_insecure_sts).context("--blast-radius")?;
        // IAM is global: requests are signed for us-east-1 whatever the STS region.
        Some(AwsClient::new(endpoint, "us-east-1", "iam", IAM_VERSION, args.verify_timeout))
    } else {
        None
    };
    let blast = BlastSources {
        export: IamExport::load(&args.aws_iam).context("--aws-iam")?,
        access_keys: AccessKeys::load(&args.aws_access_keys).context("--aws-access-keys")?,
        live,
    };
    let accounts = Accounts::load(&args.aws_accounts).context("--aws-accounts")?;
    Ok(Enricher { verify, accounts, blast, git_repo: None })
}

/// Prints verification's warnings (stderr) and, with `-v`, what it did.
pub fn report(stats: &EnrichStats) {
    let Some(verify) = &stats.verify else { return };
    for warning in &verify.warnings {
        eprintln!("warning: {}", keysweep::report::text::sanitize(warning));
    }
    log::info!(
        "verification: {} distinct credential(s), {} request(s), {} from cache, {:.2}s",
        verify.credentials,
        verify.requested,
        verify.cached,
        verify.elapsed.as_secs_f64()
    );
}
