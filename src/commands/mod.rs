//! One module per `tollgate` command: `main` parses the command line and
//! hands the parsed arguments to the matching `run`.

pub mod client;
pub mod dpop;
pub mod explain;
pub mod jwks;
pub mod keys;
pub mod metrics;
pub mod serve;
pub mod token;
pub mod user;

use std::sync::Arc;

use anyhow::bail;
use issuer::accounts::{Account, AccountKind};
use issuer::{IssuerService, Revocation};
use tollgate::local_stack::{self, DataDir};

/// The first line of standard input; `what` names the secret and `flag`
/// the option that must be given (no interactive prompt, no argument).
fn read_secret_stdin(given: bool, what: &str, flag: &str) -> anyhow::Result<String> {
    if !given {
        bail!("pass the {what} on standard input with {flag}");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let secret = line.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        bail!("empty {what} on standard input");
    }
    Ok(secret)
}

/// The password of `user add` and `token`, behind `--password-stdin`.
fn read_password_stdin(flag: bool) -> anyhow::Result<String> {
    read_secret_stdin(flag, "password", "--password-stdin")
}

/// Stores a user or client with a hashed secret, replacing one of that
/// kind and name. Only the key and account stores are opened: this works
/// beside a running `serve`.
async fn save_account(
    data: &DataDir,
    kind: AccountKind,
    name: &str,
    scopes: &str,
    secret: &str,
    dpop_only: bool,
) -> anyhow::Result<Account> {
    let account = Account::new(kind, name, secret, scopes)?.dpop_only(dpop_only);
    local_stack::identity_stores(data)
        .await?
        .accounts
        .put(&account)
        .await?;
    Ok(account)
}

/// The issuer service of this data directory (or of the AWS stores the
/// environment names), issuing as `JWT_ISSUER` when set, else as the URL
/// the data directory fixed: the `iss` a revoked token must carry.
async fn issuer_of(data: &DataDir) -> anyhow::Result<Arc<IssuerService>> {
    let issuer_url = match environment::Settings::from_env().text("JWT_ISSUER") {
        Some(url) => url,
        None => match data.stored_issuer_url()? {
            Some(url) => url,
            None => bail!(
                "{} has issued no tokens yet (no issuer URL); set JWT_ISSUER for another issuer",
                data.0.display()
            ),
        },
    };
    let stores = local_stack::identity_stores(data).await?;
    local_stack::issuer_service(&stores, &issuer_url)
}

/// Prints what a revocation revoked as JSON; revoking nothing is an error
/// (`nothing` says why), so scripts see it.
fn print_revocation(revocation: Revocation, nothing: &str) -> anyhow::Result<()> {
    let Revocation::Revoked(tokens) = revocation else {
        bail!("{nothing}");
    };
    let tokens: Vec<_> = tokens
        .iter()
        .map(|t| serde_json::json!({"jti": t.jti, "sub": t.sub, "exp": t.exp}))
        .collect();
    let output = serde_json::json!({"revoked": tokens.len(), "tokens": tokens});
    println!("{}", serde_json::to_string_pretty(&output)?);
    eprintln!(
        "A running serve on this data directory refuses them within {} s.",
        local_stack::KEYSET_POLL.as_secs() + 1
    );
    Ok(())
}
