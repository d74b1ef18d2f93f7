//! `--aws-accounts FILE`: names and e-mails of AWS accounts, from an AWS Organizations export
//! (`aws organizations list-accounts > accounts.json`).
//!
//! Accepts `{"Accounts": [...]}` (list-accounts), `{"Account": {...}}` (describe-account) or a
//! bare array of account objects; each needs `Id`, and may have `Name`, `Email`, `Status`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The error returned by [`Accounts::load`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unreadable.
    #[error("cannot read AWS accounts file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not an Organizations export.
    #[error("{path} is not an `aws organizations list-accounts` export")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgAccount {
    /// 12-digit id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Root user e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, ...
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    List {
        #[serde(rename = "Accounts")]
        accounts: Vec<OrgAccount>,
    },
    One {
        #[serde(rename = "Account")]
        account: OrgAccount,
    },
    Bare(Vec<OrgAccount>),
}

/// Accounts by id.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_id: HashMap<String, OrgAccount>,
}

impl Accounts {
    /// Reads and merges the files.
    ///
    /// # Errors
    /// A file is unreadable or not an export; the error names it.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Accounts, Error> {
        let mut accounts = Accounts::default();
        for path in paths {
            let path = path.as_ref();
            let bytes =
                std::fs::read(path).map_err(|source| Error::Read { path: path.into(), source })?;
            let shape: Shape = serde_json::from_slice(&bytes)
                .map_err(|source| Error::Parse { path: path.into(), source })?;
            let list = match shape {
                Shape::List { accounts } | Shape::Bare(accounts) => accounts,
                Shape::One { account } => vec![account],
            };
            accounts.by_id.extend(list.into_iter().map(|a| (a.id.clone(), a)));
        }
        Ok(accounts)
    }

    /// The account with this id.
    pub fn get(&self, id: &str) -> Option<&OrgAccount> {
        self.by_id.get(id)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
