//! `tollgate user add`: a user with a password read from standard input;
//! `tollgate user revoke-tokens`: every unexpired token of a user revoked.

use clap::Subcommand;
use issuer::accounts::AccountKind;
use tollgate::local_stack::DataDir;

/// What to do with users.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        name: String,
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        password_stdin: bool,
        /// Tokens only with a DPoP proof: a login without one is refused.
        #[arg(long)]
        dpop_only: bool,
    },
    /// Revoke every unexpired token of a user (logs it out everywhere).
    RevokeTokens { name: String },
}

/// Runs `command`.
pub async fn run(data: &DataDir, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            scopes,
            password_stdin,
            dpop_only,
        } => add(data, &name, &scopes, password_stdin, dpop_only).await,
        UserCommand::RevokeTokens { name } => revoke_tokens(data, &name).await,
    }
}

/// Saves the user and prints its scopes.
async fn add(
    data: &DataDir,
    name: &str,
    scopes: &str,
    password_stdin: bool,
    dpop_only: bool,
) -> anyhow::Result<()> {
    let password = super::read_password_stdin(password_stdin)?;
    let account =
        super::save_account(data, AccountKind::User, name, scopes, &password, dpop_only).await?;
    println!(
        "user {name} saved with scopes: {}{}",
        account.scopes.join(" "),
        if account.dpop_only {
            " (DPoP only)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Revokes every unexpired token whose `sub` is the user `name`.
async fn revoke_tokens(data: &DataDir, name: &str) -> anyhow::Result<()> {
    let service = super::issuer_of(data).await?;
    let revocation = service.revoke_subject(name, "the CLI").await?;
    super::print_revocation(
        revocation,
        "no unexpired token of this user: nothing revoked",
    )
}
