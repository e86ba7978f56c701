//! `tollgate`: the local stack and the administration commands (fixed by
//! DESIGN.md). The commands work on the same data directory as a running
//! `serve`: the stores lock and replace their files atomically.

mod commands;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use commands::keys::KeysCommand;
use commands::serve::{MetricsMode, ServeOptions};
use tollgate::lambda_mode_args::LambdaModeArgs;
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
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Seconds the gateway reuses an authorizer answer per token; 0 turns caching off.
        #[arg(long, default_value_t = 300)]
        authorizer_cache_ttl: u64,
        /// The issuer URL (`iss`) of the tokens, fixed in the data dir at the
        /// first start (default: `http://` and the first address served).
        #[arg(long)]
        issuer_url: Option<String>,
        /// Where metrics go: nowhere, EMF lines on stdout, or CloudWatch
        /// PutMetricData (standard AWS environment; flushed every
        /// METRICS_FLUSH_SECONDS, default 60, and at shutdown).
        #[arg(long, value_enum, default_value_t = MetricsMode::Off)]
        metrics: MetricsMode,
        #[command(flatten)]
        lambda: LambdaModeArgs,
    },
    /// Read the Tollgate namespace back from CloudWatch and print it.
    Metrics {
        /// How far back: 90s, 30m, 1h, 2d (at most 15d).
        #[arg(long, default_value = "1h", value_parser = telemetry_cloudwatch::parse_since)]
        since: Duration,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Explain why a token is accepted or refused (TOKEN, or - for stdin),
    /// under the authorizer configuration in force (JWT_ISSUER, ... or the
    /// local stack's).
    Explain {
        token: String,
        /// Where the local stack serves (its JWKS), used when JWT_ISSUER and
        /// TRUSTED_ISSUERS are unset; the issuer is the data dir's.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Manage OAuth clients (the `client_credentials` grant).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Log in and print an access token (`--url --username
    /// --password-stdin`), or revoke one (`token revoke TOKEN`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Token {
        #[command(subcommand)]
        action: Option<TokenCommand>,
        #[arg(long, required = true)]
        url: Option<String>,
        #[arg(long, required = true)]
        username: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Revoke a token of this data directory's issuer (TOKEN, or - for
    /// stdin): its status list entry turns INVALID. A running serve on the
    /// same data directory refuses it within two seconds.
    Revoke {
        #[arg(allow_hyphen_values = true)]
        token: String,
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
    /// Revoke every unexpired token of a user (logs it out everywhere).
    RevokeTokens { name: String },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Add (or replace) a client; its token subject is `client:NAME`.
    Add {
        name: String,
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        secret_stdin: bool,
    },
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
    // Dropped last: the stack's final log lines are written before exit.
    let _flush_logs = init_logging(matches!(cli.command, None | Some(Command::Serve { .. })));
    let data = DataDir(cli.data_dir.clone());
    match cli.command.unwrap_or(Command::Serve {
        addr: "127.0.0.1:8080".to_owned(),
        authorizer_cache_ttl: 300,
        metrics: MetricsMode::Off,
        issuer_url: None,
        lambda: LambdaModeArgs::default(),
    }) {
        Command::Serve {
            addr,
            authorizer_cache_ttl,
            metrics,
            issuer_url,
            lambda,
        } => {
            let options = ServeOptions {
                addr: &addr,
                authorizer_cache_ttl,
                metrics,
                issuer_url: issuer_url.as_deref(),
                lambda: &lambda,
            };
            commands::serve::run(data, options).await
        }
        Command::Metrics { since } => commands::metrics::run(since).await,
        Command::User(UserCommand::Add {
            name,
            scopes,
            password_stdin,
        }) => commands::user::add(&data, &name, &scopes, password_stdin).await,
        Command::User(UserCommand::RevokeTokens { name }) => {
            commands::user::revoke_tokens(&data, &name).await
        }
        Command::Client(ClientCommand::Add {
            name,
            scopes,
            secret_stdin,
        }) => commands::client::add(&data, &name, &scopes, secret_stdin).await,
        Command::Keys(command) => commands::keys::run(&data, command).await,
        Command::Explain { token, url } => commands::explain::run(&data, token, &url).await,
        Command::Token {
            action: Some(TokenCommand::Revoke { token }),
            ..
        } => commands::token::revoke(&data, token).await,
        Command::Token {
            action: None,
            url: Some(url),
            username: Some(username),
            password_stdin,
        } => commands::token::run(&url, &username, password_stdin).await,
        Command::Token { .. } => {
            anyhow::bail!("token needs --url and --username (or: token revoke TOKEN)")
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

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
            Some(Command::Token {
                action: None,
                url: Some(_),
                username: Some(_),
                password_stdin: true
            })
        ));
        let revoke = Cli::try_parse_from(["tollgate", "token", "revoke", "-"]).unwrap();
        match revoke.command {
            Some(Command::Token {
                action: Some(TokenCommand::Revoke { token }),
                ..
            }) => assert_eq!(token, "-"),
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
}
