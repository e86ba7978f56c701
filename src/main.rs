//! `tollgate`: the local stack and the administration commands.
//!
//! The command surface is fixed by DESIGN.md; the commands are wired to the
//! issuer, backend and authorizer crates as those land (issue "Local stack").

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Tollgate: JWT authorizer, issuer and books API"
)]
struct Cli {
    /// Where the local stack keeps its keys, users and books.
    #[arg(long, global = true, default_value = ".tollgate")]
    data_dir: PathBuf,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local stack (issuer, authorizer and books behind a gateway).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Seconds the gateway reuses an authorizer answer per token; 0 turns caching off.
        #[arg(long, default_value_t = 300)]
        authorizer_cache_ttl: u64,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Log in and print an access token.
    Token {
        #[arg(long)]
        url: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        name: String,
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List key metadata.
    List,
    /// Run one rotation step.
    Rotate,
    /// Revoke a key.
    Revoke { kid: String },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        addr: "127.0.0.1:8080".to_owned(),
        authorizer_cache_ttl: 300,
    });
    bail!(
        "`{}` is not available yet: the local stack lands with the issue \"Local stack\" (data dir {})",
        command_name(&command),
        cli.data_dir.display()
    )
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Serve { .. } => "serve",
        Command::User(_) => "user",
        Command::Keys(_) => "keys",
        Command::Token { .. } => "token",
    }
}
