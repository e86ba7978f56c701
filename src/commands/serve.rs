//! `tollgate serve` (and `tollgate` alone): the local stack until Ctrl-C or
//! SIGTERM, with its metrics sent where `--metrics` says.

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use telemetry::MetricsSink;
use telemetry_cloudwatch::CloudWatchSink;
use tollgate::lambda_mode_args::LambdaModeArgs;
use tollgate::local_stack::{self, DataDir, FirstStart, StackOptions, Stores};

/// Where `serve` sends the metrics of the authorizer, issuer and gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MetricsMode {
    Off,
    Emf,
    Cloudwatch,
}

/// `serve`'s options; their defaults are what a bare `tollgate` runs with.
#[derive(Debug, Parser)]
#[command(name = "serve")]
pub struct ServeArgs {
    /// The loopback address to listen on (IP:PORT; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Seconds the gateway reuses an authorizer answer per token; 0 turns caching off.
    #[arg(long, default_value_t = 300)]
    pub authorizer_cache_ttl: u64,
    /// The issuer URL (`iss`) of the tokens, fixed in the data dir at the
    /// first start (default: `http://` and the first address served).
    #[arg(long)]
    pub issuer_url: Option<String>,
    /// Where metrics go: nowhere, EMF lines on stdout, or CloudWatch
    /// PutMetricData (standard AWS environment; flushed every
    /// METRICS_FLUSH_SECONDS, default 60, and at shutdown).
    #[arg(long, value_enum, default_value_t = MetricsMode::Off)]
    pub metrics: MetricsMode,
    #[command(flatten)]
    pub lambda: LambdaModeArgs,
}

impl Default for ServeArgs {
    /// The options of `serve` with no flags: the defaults above, written once.
    fn default() -> Self {
        Self::parse_from(["serve"])
    }
}

/// Starts the stack, prints how to try it, and serves until a shutdown
/// signal; CloudWatch metrics are flushed before returning.
pub async fn run(data: DataDir, options: ServeArgs) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = options
        .addr
        .parse()
        .map_err(|_| anyhow::anyhow!("--addr must be IP:PORT, got {}", options.addr))?;
    // A metrics setting that cannot work fails before anything is written.
    let cloudwatch = match options.metrics {
        MetricsMode::Cloudwatch => Some(CloudWatchSink::from_env().await?),
        _ => None,
    };
    let stores = Stores::select(&data).await?;
    let first = local_stack::first_start(&data, stores.accounts.as_ref()).await?;
    let sink: Arc<dyn MetricsSink> = match (&cloudwatch, options.metrics) {
        (Some(cloudwatch), _) => Arc::clone(cloudwatch) as Arc<dyn MetricsSink>,
        (None, MetricsMode::Emf) => Arc::new(telemetry::StdoutSink),
        (None, _) => Arc::new(telemetry::DiscardSink),
    };
    let ttl = Duration::from_secs(options.authorizer_cache_ttl);
    let mode = options.lambda.mode();
    let stack = local_stack::start_in(
        &data,
        stores,
        StackOptions::new(addr, ttl)
            .with_metrics(sink)
            .with_mode(mode),
        options.issuer_url.as_deref(),
    )
    .await?;
    print_welcome(
        &data,
        &stack.addr.to_string(),
        &stack.issuer_url,
        first.as_ref(),
    );
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

/// Where the stack serves, what a first start created, and a login and
/// two book requests to copy.
fn print_welcome(data: &DataDir, addr: &str, issuer_url: &str, first: Option<&FirstStart>) {
    let url = format!("http://{addr}");
    println!(
        "Tollgate local stack on {url} (data in {}), issuing as {}",
        data.0.display(),
        issuer_url
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
