//! `tollgate client add`: an OAuth client for the `client_credentials`
//! grant, with a secret read from standard input.

use issuer::accounts::AccountKind;
use tollgate::local_stack::DataDir;

/// Saves the client and prints its scopes and token subject.
pub async fn add(
    data: &DataDir,
    name: &str,
    scopes: &str,
    secret_stdin: bool,
) -> anyhow::Result<()> {
    let secret = super::read_secret_stdin(secret_stdin, "client secret", "--secret-stdin")?;
    let account = super::save_account(data, AccountKind::Client, name, scopes, &secret).await?;
    println!(
        "client {name} saved with scopes: {} (token subject {})",
        account.scopes.join(" "),
        account.subject()
    );
    Ok(())
}
