//! `tollgate`: the local stack and the administration commands (fixed by
//! DESIGN.md). The commands work on the same data directory as a running
//! `serve`: the stores lock and replace their files atomically.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, Subcommand, ValueEnum};
use issuer::accounts::{Account, AccountKind};
use telemetry::MetricsSink;
use telemetry_cloudwatch::CloudWatchSink;
use tollgate::local_stack::{self, DataDir, Stores};

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
        /// Where metrics go: nowhere, EMF lines on stdout, or CloudWatch
        /// PutMetricData (standard AWS environment; flushed every
        /// METRICS_FLUSH_SECONDS, default 60, and at shutdown).
        #[arg(long, value_enum, default_value_t = MetricsMode::Off)]
        metrics: MetricsMode,
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
enum KeysCommand {
    /// List key metadata.
    List,
    /// Run one rotation step.
    Rotate,
    /// Revoke a key.
    Revoke { kid: String },
}

fn read_password_stdin(flag: bool) -> anyhow::Result<String> {
    if !flag {
        bail!("pass the password on standard input with --password-stdin");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("empty password on standard input");
    }
    Ok(password)
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
    }) {
        Command::Serve {
            addr,
            authorizer_cache_ttl,
            metrics,
        } => serve(data, &addr, authorizer_cache_ttl, metrics).await,
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
            let account = Account {
                kind: AccountKind::User,
                name: name.clone(),
                secret_hash: issuer::password::hash_secret(&password)?,
                scopes: scopes
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                disabled: false,
            };
            Stores::select(&data).await?.accounts.put(&account).await?;
            println!(
                "user {name} saved with scopes: {}",
                account.scopes.join(" ")
            );
            Ok(())
        }
        Command::Keys(command) => {
            let service =
                local_stack::issuer_service(&Stores::select(&data).await?, "http://127.0.0.1")?;
            let output = match command {
                KeysCommand::List => {
                    serde_json::json!({"keys": service.keyset().await?.metadata()})
                }
                KeysCommand::Rotate => serde_json::json!({"active": service.rotate().await?}),
                KeysCommand::Revoke { kid } => {
                    serde_json::json!({"revoked": service.revoke(&kid).await?})
                }
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
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
    let stack = local_stack::start_with_metrics(
        stores,
        addr,
        Duration::from_secs(authorizer_cache_ttl),
        sink,
    )
    .await?;
    let url = format!("http://{}", stack.addr);
    println!(
        "Tollgate local stack on {url} (data in {})",
        data.0.display()
    );
    if let Some(first) = first {
        println!(
            "First start: users created, passwords saved once in {}:",
            data.credentials().display()
        );
        println!(
            "  admin  {}   (books:read books:write books:admin keys:admin)",
            first.admin_password
        );
        println!(
            "  demo   {}   (books:read books:write)",
            first.demo_password
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
