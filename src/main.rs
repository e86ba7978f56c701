//! `tollgate`: the local stack and the administration commands (fixed by
//! DESIGN.md). The commands work on the same data directory as a running
//! `serve`: the stores lock and replace their files atomically.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, Subcommand, ValueEnum};
use issuer::accounts::{validate_name, Account, AccountKind};
use telemetry::MetricsSink;
use telemetry_cloudwatch::CloudWatchSink;
use tollgate::lambda_mode_args::LambdaModeArgs;
use tollgate::local_stack::{self, DataDir, IdentityStores, Stores};

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
        #[arg(long, default_value = "1h", value_parser = telemetry_cloudwatch::report::parse_since)]
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

/// Where `serve` sends the metrics of the authorizer, issuer and gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MetricsMode {
    Off,
    Emf,
    Cloudwatch,
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

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List key metadata.
    List,
    /// Run one rotation step.
    Rotate,
    /// Revoke a key.
    Revoke { kid: String },
}

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
    validate_name(kind, name)?;
    let account = Account {
        kind,
        name: name.to_owned(),
        secret_hash: issuer::password::hash_secret(secret)?,
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        disabled: false,
    };
    IdentityStores::select(data)
        .await?
        .accounts
        .put(&account)
        .await?;
    Ok(account)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
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
            serve(
                data,
                &addr,
                authorizer_cache_ttl,
                metrics,
                issuer_url.as_deref(),
                &lambda,
            )
            .await
        }
        Command::Metrics { since } => {
            let report = telemetry_cloudwatch::report::read_from_env(since).await?;
            print!("{report}");
            Ok(())
        }
        Command::User(UserCommand::Add {
            name,
            scopes,
            password_stdin,
        }) => {
            let password = read_password_stdin(password_stdin)?;
            let account = save_account(&data, AccountKind::User, &name, &scopes, &password).await?;
            println!(
                "user {name} saved with scopes: {}",
                account.scopes.join(" ")
            );
            Ok(())
        }
        Command::Client(ClientCommand::Add {
            name,
            scopes,
            secret_stdin,
        }) => {
            let secret = read_secret_stdin(secret_stdin, "client secret", "--secret-stdin")?;
            let account = save_account(&data, AccountKind::Client, &name, &scopes, &secret).await?;
            println!(
                "client {name} saved with scopes: {} (token subject {})",
                account.scopes.join(" "),
                account.subject()
            );
            Ok(())
        }
        Command::Keys(command) => {
            let stores = IdentityStores::select(&data).await?;
            // `iss` does not matter here: these commands mint no token.
            let issuer_url = data
                .stored_issuer_url()?
                .unwrap_or_else(|| "http://127.0.0.1".to_owned());
            let service = local_stack::issuer_service(&stores.keys, &stores.accounts, &issuer_url)?;
            let output = match command {
                KeysCommand::List => {
                    serde_json::json!({"keys": service.keyset().await?.metadata()})
                }
                KeysCommand::Rotate => serde_json::json!({"active": service.rotate().await?}),
                KeysCommand::Revoke { kid } => {
                    let revoked = service.revoke(&kid).await?;
                    eprintln!(
                        "A running serve on this data directory refuses this key's tokens within {} s.",
                        local_stack::KEYSET_POLL.as_secs() + 1
                    );
                    serde_json::json!({"revoked": revoked})
                }
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(())
        }
        Command::Explain { token, url } => {
            let input = if token == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                token
            };
            let config = if std::env::var("JWT_ISSUER").is_ok()
                || std::env::var("TRUSTED_ISSUERS").is_ok()
            {
                authorizer::AuthorizerConfig::from_env()?
            } else {
                let url = url.trim_end_matches('/');
                let issuer_url = data.stored_issuer_url()?.unwrap_or_else(|| url.to_owned());
                local_stack::authorizer_config(
                    &issuer_url,
                    &format!("{url}/.well-known/jwks.json"),
                )?
            };
            let explanation =
                tollgate::explain::explain(config, tollgate::explain::token_text(&input)).await?;
            print!("{}", tollgate::explain::render(&explanation));
            if explanation.outcome.is_err() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Token {
            url,
            username,
            password_stdin,
        } => {
            let password = read_password_stdin(password_stdin)?;
            let response = reqwest::Client::new()
                .post(format!("{}/token", url.trim_end_matches('/')))
                .json(&serde_json::json!({"username": username, "password": password}))
                .send()
                .await?;
            let status = response.status();
            let body: serde_json::Value = response.json().await?;
            match body.get("access_token").and_then(|t| t.as_str()) {
                Some(token) if status.is_success() => {
                    println!("{token}");
                    Ok(())
                }
                _ => bail!("login failed ({status}): {body}"),
            }
        }
    }
}

async fn serve(
    data: DataDir,
    addr: &str,
    authorizer_cache_ttl: u64,
    metrics: MetricsMode,
    issuer_url: Option<&str>,
    lambda: &LambdaModeArgs,
) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| anyhow::anyhow!("--addr must be IP:PORT, got {addr}"))?;
    // A metrics setting that cannot work fails before anything is written.
    let cloudwatch = match metrics {
        MetricsMode::Cloudwatch => Some(CloudWatchSink::from_env().await?),
        _ => None,
    };
    let stores = Stores::select(&data).await?;
    let first = local_stack::first_start(&data, stores.accounts.as_ref()).await?;
    let sink: Arc<dyn MetricsSink> = match (&cloudwatch, metrics) {
        (Some(cloudwatch), _) => Arc::clone(cloudwatch) as Arc<dyn MetricsSink>,
        (None, MetricsMode::Emf) => Arc::new(telemetry::StdoutSink),
        (None, _) => Arc::new(telemetry::DiscardSink),
    };
    let ttl = Duration::from_secs(authorizer_cache_ttl);
    let mode = lambda.mode();
    let stack = local_stack::start_in(&data, stores, addr, ttl, issuer_url, sink, mode).await?;
    let url = format!("http://{}", stack.addr);
    println!(
        "Tollgate local stack on {url} (data in {}), issuing as {}",
        data.0.display(),
        stack.issuer_url
    );
    if let Some(first) = first {
        // The passwords themselves never go to stdout, which may be collected.
        let users: Vec<&str> = [
            ("admin", &first.admin_password),
            ("demo", &first.demo_password),
        ]
        .into_iter()
        .filter(|(_, password)| password.is_some())
        .map(|(name, _)| name)
        .collect();
        println!(
            "First start: created {}; passwords are in {} (mode 0600, NAME:PASSWORD lines)",
            users.join(" and "),
            data.credentials().display()
        );
    }
    println!("Try it:");
    println!("  TOKEN=$(printf '%s' \"$(sed -n 's/^demo://p' {}/credentials)\" | cargo run --release -- token --url {url} --username demo --password-stdin)", data.0.display());
    println!("  curl -s -X POST {url}/books -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"title\":\"Kindred\",\"author\":\"Octavia E. Butler\"}}'");
    println!("  curl -s {url}/books -H \"Authorization: Bearer $TOKEN\"");
    shutdown_signal().await;
    tracing::info!("shutting down");
    stack.shutdown().await;
    if let Some(cloudwatch) = cloudwatch {
        // Whatever the last requests recorded goes out before the process ends.
        cloudwatch.shutdown().await;
        let stats = cloudwatch.stats();
        tracing::info!(?stats, "CloudWatch metrics sink stopped");
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
