//! Starting a stack: bind, wire the issuer, the authorizer and the books
//! behind the gateway, pre-warm, and watch the stores for changes made
//! beside it.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use api_routes::ApiRoutes;
use authorizer::Authorizer;
use issuer::{IssuerMetrics, IssuerService, RevocationListener};
use telemetry::MetricsSink;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::authorizer_config::authorizer_config;
use super::data_dir::DataDir;
use super::issuer::{audiences, issuer_service_recording, KEYSET_POLL};
use super::stores::Stores;
use crate::authorizer_backend::{self, AuthorizerBackend, AuthorizerMode};
use crate::gateway::Gateway;
use crate::store_watch;

/// A running stack; stops when `shutdown` is called or the process is signalled.
pub struct RunningStack {
    /// The address bound (the port chosen when 0 was asked for).
    pub addr: SocketAddr,
    /// The `iss` of the tokens it issues.
    pub issuer_url: String,
    /// The gateway in front of everything (its cache, its metrics).
    pub gateway: Arc<Gateway>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    watcher: tokio::task::JoinHandle<()>,
}

impl RunningStack {
    /// Stops accepting, lets in-flight requests finish, and returns.
    pub async fn shutdown(mut self) {
        self.watcher.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
        // Awaited, not only aborted: it holds the stores (the books file's
        // lock among them) until it has really stopped.
        let _ = self.watcher.await;
    }
}

/// How a stack runs: where it listens, how long the gateway reuses an
/// authorizer answer, the URL it issues as, where its metrics go and where
/// its authorizer runs.
pub struct StackOptions {
    /// The address to bind (port 0: any free port).
    pub addr: SocketAddr,
    /// The gateway's authorizer cache TTL (0: off).
    pub authorizer_cache_ttl: Duration,
    /// The URL to issue as (a data directory fixes it at its first start, so
    /// tokens stay valid whatever address serves); `None`: `http://` and the
    /// bound address.
    pub issuer_url: Option<String>,
    /// Where the authorizer, the issuer and the gateway record metrics.
    pub metrics: Arc<dyn MetricsSink>,
    /// In process, or as a Lambda function process.
    pub mode: AuthorizerMode,
}

impl StackOptions {
    /// Listening on `addr`, metrics discarded, the authorizer in process.
    pub fn new(addr: SocketAddr, authorizer_cache_ttl: Duration) -> Self {
        Self {
            addr,
            authorizer_cache_ttl,
            issuer_url: None,
            metrics: Arc::new(telemetry::DiscardSink),
            mode: AuthorizerMode::InProcess,
        }
    }

    /// Recording metrics to `metrics` (`serve --metrics`).
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// With the authorizer run as `mode` says.
    pub fn with_mode(mut self, mode: AuthorizerMode) -> Self {
        self.mode = mode;
        self
    }
}

/// [`start`] for the data directory `data`: issuing as the URL it fixed at
/// its first start, or `requested_issuer_url` (`--issuer-url`) on a first
/// start, or else `http://` and the address bound now, which is stored.
pub async fn start_in(
    data: &DataDir,
    stores: Stores,
    mut options: StackOptions,
    requested_issuer_url: Option<&str>,
) -> anyhow::Result<RunningStack> {
    options.issuer_url = data.resolve_issuer_url(requested_issuer_url)?;
    let first = options.issuer_url.is_none();
    let stack = start(stores, options).await?;
    if first {
        data.store_issuer_url(&stack.issuer_url)?;
    }
    Ok(stack)
}

/// Binds the address, wires the three parts and serves until shut down.
pub async fn start(stores: Stores, mut options: StackOptions) -> anyhow::Result<RunningStack> {
    let listener = TcpListener::bind(options.addr).await?;
    let addr = listener.local_addr()?;
    let issuer_url = options
        .issuer_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    // Keys and status lists are fetched from this very listener, whatever
    // the issuer URL says.
    let served_at = format!("http://{addr}");
    let issuer = issuer(&stores, &issuer_url, &served_at, &options.metrics)?;
    let keyset = issuer.keyset().await?; // creates the first keyset on a fresh store
    let status_revision = stores.status.revision().await?;
    let (backend, in_process) = gateway_authorizer(
        std::mem::take(&mut options.mode),
        &stores,
        &options.metrics,
        &issuer_url,
        &served_at,
    )?;
    let gateway = gateway(&stores, &issuer, backend, &served_at, options)?;
    let (stop, task) = serve_gateway(listener, Arc::clone(&gateway));
    // Pre-warm over real HTTP, now that the issuer answers. (A Lambda
    // instance fetches its JWKS itself, in its cold start.)
    if let Some(authorizer) = in_process {
        authorizer.prewarm().await;
    }
    let watched = store_watch::Watched::new(&stores, &keyset, status_revision).await?;
    let watcher = tokio::spawn(store_watch::watch(
        watched,
        Arc::clone(&issuer),
        Arc::clone(&gateway),
        KEYSET_POLL,
    ));
    Ok(RunningStack {
        addr,
        issuer_url,
        gateway,
        stop: Some(stop),
        task,
        watcher,
    })
}

/// The stack's issuer. It shares one replay store with the authorizer: a
/// proof used at the token endpoint is used, wherever it is shown next.
fn issuer(
    stores: &Stores,
    issuer_url: &str,
    served_at: &str,
    metrics: &Arc<dyn telemetry::MetricsSink>,
) -> anyhow::Result<Arc<IssuerService>> {
    Ok(Arc::new(
        issuer_service_recording(
            &stores.identity(),
            issuer_url,
            IssuerMetrics::new(Arc::clone(metrics)),
        )?
        .with_replay_store(Arc::clone(&stores.replay))
        .with_token_endpoint_urls([format!("{served_at}/token")]),
    ))
}

/// The gateway over the issuer and books routers, told of every revocation
/// the issuer serves.
fn gateway(
    stores: &Stores,
    issuer: &Arc<IssuerService>,
    backend: AuthorizerBackend,
    served_at: &str,
    options: StackOptions,
) -> anyhow::Result<Arc<Gateway>> {
    let gateway = Arc::new(
        Gateway::new(
            backend,
            issuer::router(Arc::clone(issuer)),
            backend::router(Arc::clone(&stores.books)),
            ApiRoutes::demo()?,
            options.authorizer_cache_ttl,
            served_at.trim_start_matches("http://").to_owned(),
        )
        .with_metrics(options.metrics),
    );
    let listener: Weak<dyn RevocationListener> = Arc::downgrade(&gateway) as Weak<Gateway>;
    issuer.subscribe(listener);
    Ok(gateway)
}

/// Where the gateway's authorizer runs: the stack's own, in process (also
/// returned, to pre-warm), or a Lambda function process configured for the
/// same issuer and JWKS. Only the in-process one reads the authorizer
/// settings here: a function reads them in its own init, as in Lambda (a
/// `JWKS_SNAPSHOT` written after the stack starts is then found).
fn gateway_authorizer(
    mode: AuthorizerMode,
    stores: &Stores,
    metrics: &Arc<dyn MetricsSink>,
    issuer_url: &str,
    served_at: &str,
) -> anyhow::Result<(AuthorizerBackend, Option<Arc<Authorizer>>)> {
    Ok(match mode {
        AuthorizerMode::InProcess => {
            let authorizer = Arc::new(
                Authorizer::new(
                    authorizer_config(issuer_url, served_at)?,
                    Arc::clone(metrics),
                )?
                .with_replay_store(Arc::clone(&stores.replay)),
            );
            (
                AuthorizerBackend::InProcess(Arc::clone(&authorizer)),
                Some(authorizer),
            )
        }
        AuthorizerMode::Lambda {
            command,
            settings,
            jwks_uri: function_jwks_uri,
        } => {
            let own = format!("{served_at}/.well-known/jwks.json");
            let jwks_uri = function_jwks_uri.as_deref().unwrap_or(&own);
            if !jwks_uri.starts_with(issuer_url.trim_end_matches('/')) {
                tracing::warn!(
                    issuer_url,
                    "Lambda mode: the issuer URL is not where this stack listens, so a function \
                     fetches status lists from the issuer URL; tokens with a status claim fail \
                     unless it serves them (set STATUS_LIST_CHECK=off, or serve on that address)"
                );
            }
            let backend = authorizer_backend::lambda_backend(
                &command,
                settings,
                issuer_url,
                jwks_uri,
                &audiences(),
            )?;
            (backend, None)
        }
    })
}

/// Serves the gateway on `listener` (with the peer address, for
/// `sourceIp`) until the returned sender is used or dropped.
fn serve_gateway(
    listener: TcpListener,
    gateway: Arc<Gateway>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let app = gateway.router();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "server stopped");
        }
    });
    (stop, task)
}
