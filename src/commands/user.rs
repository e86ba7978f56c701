//! `tollgate user add`: a user with a password read from standard input;
//! `tollgate user revoke-tokens`: every unexpired token of a user revoked.

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

/// Revokes every unexpired token whose `sub` is the user `name`.
pub async fn revoke_tokens(data: &DataDir, name: &str) -> anyhow::Result<()> {
    let service = super::issuer_of(data).await?;
    let revocation = service.revoke_subject(name, "the CLI").await?;
    super::print_revocation(
        revocation,
        "no unexpired token of this user: nothing revoked",
    )
}
