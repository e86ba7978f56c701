//! `tollgate user add`: a user with a password read from standard input.

use issuer::accounts::AccountKind;
use tollgate::local_stack::DataDir;

/// Saves the user and prints its scopes.
pub async fn add(
    data: &DataDir,
    name: &str,
    scopes: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = super::read_password_stdin(password_stdin)?;
    let account = super::save_account(data, AccountKind::User, name, scopes, &password).await?;
    println!(
        "user {name} saved with scopes: {}",
        account.scopes.join(" ")
    );
    Ok(())
}
