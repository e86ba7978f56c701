//! `tollgate`: the local stack and the administration commands (their
//! contract is docs/reference.md). The commands work on the same data
//! directory as a running `serve`: the stores lock and replace their files
//! atomically. Each command's arguments live with it in `commands/`.

mod commands;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use commands::client::ClientCommand;
use commands::dpop::DpopCommand;
use commands::explain::ExplainArgs;
use commands::jwks::JwksCommand;
use commands::keys::KeysCommand;
use commands::metrics::MetricsArgs;
use commands::serve::ServeArgs;
use commands::token::TokenArgs;
use commands::user::UserCommand;
use tollgate::local_stack::DataDir;
use tollgate::log_batch::{BatchedStderr, FlushOnDrop};

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
    Serve(ServeArgs),
    /// Read the Tollgate namespace back from CloudWatch and print it.
    Metrics(MetricsArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Explain why a token is accepted or refused (TOKEN, or - for stdin),
    /// under the authorizer configuration in force (JWT_ISSUER, ... or the
    /// local stack's).
    Explain(ExplainArgs),
    /// Manage OAuth clients (the `client_credentials` grant).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Log in and print an access token (`--url --username
    /// --password-stdin`, `--dpop-key` for a DPoP-bound one), or revoke one
    /// (`token revoke TOKEN`).
    Token(TokenArgs),
    /// DPoP proofs for requests with a DPoP-bound token.
    #[command(subcommand)]
    Dpop(DpopCommand),
    /// JWKS snapshots for the authorizer's `JWKS_SNAPSHOT`.
    #[command(subcommand)]
    Jwks(JwksCommand),
}

// The local stack allocates on every request from several threads, and
// glibc's malloc (its arena locks, consolidation) was a tenth of serve's CPU
// in a profile (docs/load-tests.md, "What one request costs").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs on stderr: stdout carries what commands print (JSON, tokens) and,
/// with `serve --metrics emf`, the EMF lines. The stack logs every request,
/// so its lines go out in batches; a command's go out at once. Colours only
/// on a terminal, never into a log file.
fn init_logging(batched: bool) -> Option<FlushOnDrop> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    if batched {
        let (stderr, guard) = BatchedStderr::start();
        logs.with_writer(stderr).init();
        Some(guard)
    } else {
        logs.with_writer(std::io::stderr).init();
        None
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A bare `tollgate` serves with serve's defaults.
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()));
    // Dropped last: the stack's final log lines are written before exit.
    let _flush_logs = init_logging(matches!(command, Command::Serve(_)));
    let data = DataDir(cli.data_dir);
    match command {
        Command::Serve(args) => commands::serve::run(data, args).await,
        Command::Metrics(args) => commands::metrics::run(args).await,
        Command::User(command) => commands::user::run(&data, command).await,
        Command::Client(command) => commands::client::run(&data, command).await,
        Command::Keys(command) => commands::keys::run(&data, command).await,
        Command::Explain(args) => commands::explain::run(&data, args).await,
        Command::Token(args) => commands::token::dispatch(&data, args).await,
        Command::Dpop(command) => commands::dpop::run(command),
        Command::Jwks(command) => commands::jwks::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use commands::token::TokenCommand;

    #[test]
    fn token_logs_in_or_revokes() {
        let login = Cli::try_parse_from([
            "tollgate",
            "token",
            "--url",
            "http://127.0.0.1:8080",
            "--username",
            "demo",
            "--password-stdin",
        ])
        .unwrap();
        assert!(matches!(
            login.command,
            Some(Command::Token(TokenArgs {
                action: None,
                url: Some(_),
                username: Some(_),
                password_stdin: true,
                dpop_key: None,
            }))
        ));
        let revoke = Cli::try_parse_from(["tollgate", "token", "revoke", "-"]).unwrap();
        match revoke.command {
            Some(Command::Token(TokenArgs {
                action: Some(TokenCommand::Revoke { token }),
                ..
            })) => assert_eq!(token, "-"),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["tollgate", "token", "--url", "http://x"]).is_err());
        let users = Cli::try_parse_from(["tollgate", "user", "revoke-tokens", "demo"]).unwrap();
        assert!(matches!(
            users.command,
            Some(Command::User(UserCommand::RevokeTokens { name })) if name == "demo"
        ));
    }

    #[test]
    fn a_kid_starting_with_a_hyphen_is_a_kid() {
        let cli = Cli::try_parse_from(["tollgate", "keys", "revoke", "-cJ2uWq"]).unwrap();
        match cli.command {
            Some(Command::Keys(KeysCommand::Revoke { kid })) => assert_eq!(kid, "-cJ2uWq"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bare_tollgate_serves_with_the_defaults_serve_declares() {
        let bare = ServeArgs::default();
        assert_eq!(bare.addr, "127.0.0.1:8080");
        assert_eq!(bare.authorizer_cache_ttl, 300);
        assert_eq!(bare.lambda.lambda_timeout_ms, 10_000);
        let Some(Command::Serve(explicit)) = Cli::parse_from(["tollgate", "serve"]).command else {
            panic!("serve");
        };
        assert_eq!(format!("{bare:?}"), format!("{explicit:?}"));
    }
}
