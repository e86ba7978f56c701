//! One module per `tollgate` command: `main` parses the command line and
//! hands the parsed arguments to the matching `run`.

pub mod client;
pub mod explain;
pub mod keys;
pub mod metrics;
pub mod serve;
pub mod token;
pub mod user;

use anyhow::bail;
use issuer::accounts::{Account, AccountKind};
use tollgate::local_stack::{DataDir, IdentityStores};

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
) -> anyhow::Result<Account> {
    let account = Account::new(kind, name, secret, scopes)?;
    IdentityStores::select(data)
        .await?
        .accounts
        .put(&account)
        .await?;
    Ok(account)
}
