//! `tollgate client add`: an OAuth client for the `client_credentials`
//! grant, with a secret read from standard input.

use clap::Subcommand;
use issuer::accounts::AccountKind;
use tollgate::local_stack::DataDir;

/// What to do with OAuth clients.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Add (or replace) a client; its token subject is `client:NAME`.
    Add {
        name: String,
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        secret_stdin: bool,
        /// Tokens only with a DPoP proof: a request without one is refused.
        #[arg(long)]
        dpop_only: bool,
    },
}

/// Runs `command`.
pub async fn run(data: &DataDir, command: ClientCommand) -> anyhow::Result<()> {
    let ClientCommand::Add {
        name,
        scopes,
        secret_stdin,
        dpop_only,
    } = command;
    add(data, &name, &scopes, secret_stdin, dpop_only).await
}

/// Saves the client and prints its scopes and token subject.
async fn add(
    data: &DataDir,
    name: &str,
    scopes: &str,
    secret_stdin: bool,
    dpop_only: bool,
) -> anyhow::Result<()> {
    let secret = super::read_secret_stdin(secret_stdin, "client secret", "--secret-stdin")?;
    let account =
        super::save_account(data, AccountKind::Client, name, scopes, &secret, dpop_only).await?;
    println!(
        "client {name} saved with scopes: {} (token subject {}){}",
        account.scopes.join(" "),
        account.subject(),
        if account.dpop_only { ", DPoP only" } else { "" }
    );
    Ok(())
}
