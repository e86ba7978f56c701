//! The local stack: issuer, authorizer and books behind the gateway on one
//! loopback address, with embedded stores in the data directory (keys,
//! users and books survive a restart), or AWS's when configured. The
//! authorizer fetches the JWKS from the issuer over real loopback HTTP, as
//! it does on AWS.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, AuthorizerConfig};
use backend::BookStore;
use backend::BookStoreLocation;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use issuer::accounts::{Account, AccountKind};
use issuer::accounts::{AccountStore, DynamoAccountStore, FileAccountStore};
use issuer::keys::secrets_manager::SecretsManagerKeyStore;
use issuer::keys::FileKeyStore;
use issuer::keys::KeyStore;
use issuer::status::{DynamoStatusStore, FileStatusStore, StatusStore};
use issuer::IssuerConfig;
use issuer::IssuerMetrics;
use issuer::IssuerService;
use telemetry::MetricsSink;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::authorizer_backend::{self, required_typ, AuthorizerBackend, AuthorizerMode};
use crate::gateway::Gateway;
use crate::store_watch;
use issuer::atomic_file;

/// The audience of local tokens unless `JWT_AUDIENCE` names others.
pub const AUDIENCE: &str = "books-api";

/// The audiences of the local stack: `JWT_AUDIENCE` (comma-separated) or
/// [`AUDIENCE`]. The embedded issuer puts exactly these in `aud` and the
/// embedded authorizer accepts exactly these, so the two cannot disagree.
pub fn audiences() -> String {
    env("JWT_AUDIENCE").unwrap_or_else(|| AUDIENCE.to_owned())
}

/// How often a running stack looks at the keyset and token status stores
/// for changes made beside it (`tollgate keys revoke` or `rotate`, `tollgate
/// token revoke` or `user revoke-tokens` on the same data dir).
pub const KEYSET_POLL: Duration = Duration::from_secs(1);

/// Where the local stack keeps its state.
#[derive(Clone, Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The embedded keyset file.
    pub fn keyset(&self) -> PathBuf {
        self.0.join("keyset.json")
    }
    /// The embedded accounts file.
    pub fn users(&self) -> PathBuf {
        self.0.join("users.json")
    }
    /// The embedded books database.
    pub fn books(&self) -> PathBuf {
        self.0.join("books.redb")
    }
    /// The first start's generated passwords (mode 0600).
    pub fn credentials(&self) -> PathBuf {
        self.0.join("credentials")
    }
    /// The embedded token status (status list entries and revocations).
    pub fn status(&self) -> PathBuf {
        self.0.join("status.json")
    }
    /// The issuer URL (`iss`), fixed at first start.
    pub fn issuer_url(&self) -> PathBuf {
        self.0.join("issuer-url")
    }

    /// Creates the directory (mode 0700) if it does not exist.
    pub fn create(&self) -> std::io::Result<()> {
        atomic_file::create_private_dir(&self.0)
    }

    /// The stored issuer URL, if a first start has fixed one.
    pub fn stored_issuer_url(&self) -> anyhow::Result<Option<String>> {
        Ok(atomic_file::read(&self.issuer_url())?
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .filter(|url| !url.is_empty()))
    }

    /// The issuer URL to serve with: the stored one; `requested` on a first
    /// start (stored now); `None` on a first start without one (the stack
    /// stores its own address once bound). A different `requested` URL
    /// than the stored one is an error: every token issued would break.
    pub fn resolve_issuer_url(&self, requested: Option<&str>) -> anyhow::Result<Option<String>> {
        let requested = requested.map(normalize_issuer_url).transpose()?;
        match (self.stored_issuer_url()?, requested) {
            (Some(stored), Some(requested)) if stored != requested => anyhow::bail!(
                "this data directory issues as {stored}; --issuer-url {requested} would invalidate \
                 every token (use another --data-dir for another issuer)"
            ),
            (Some(stored), _) => Ok(Some(stored)),
            (None, Some(requested)) => {
                self.store_issuer_url(&requested)?;
                Ok(Some(requested))
            }
            (None, None) => Ok(None),
        }
    }

    /// Fixes the issuer URL of this data directory (a private file, written
    /// atomically).
    pub fn store_issuer_url(&self, url: &str) -> std::io::Result<()> {
        use std::io::Write;
        self.create()?;
        let mut file = atomic_file::open_private(&self.issuer_url(), false)?;
        file.write_all(format!("{url}\n").as_bytes())
    }
}

/// An issuer URL: `http://` or `https://` with a host, no trailing `/`,
/// no query or fragment.
fn normalize_issuer_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(['?', '#', ' '])
                && url.parse::<axum::http::Uri>().is_ok() =>
        {
            Ok(url.to_owned())
        }
        _ => anyhow::bail!("--issuer-url must be an http(s) URL with a host, got {url:?}"),
    }
}

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

/// The stores behind the stack: the data directory's files by default;
/// Secrets Manager and DynamoDB when `KEYSET_SECRET_ID`, `USERS_TABLE`,
/// `STATUS_TABLE` and `BOOKS_TABLE` are set (with credentials, or
/// `AWS_ENDPOINT_URL` for moto).
pub struct Stores {
    /// The issuer's signing keys.
    pub keys: Arc<dyn KeyStore>,
    /// Users and clients.
    pub accounts: Arc<dyn AccountStore>,
    /// Token status: status list entries and revocations.
    pub status: Arc<dyn StatusStore>,
    /// The books backend's data.
    pub books: Arc<dyn BookStore>,
}

/// A store setting of the process environment (blank is unset).
fn env(name: &str) -> Option<String> {
    environment::Settings::from_env().text(name)
}

/// The key, account and token status stores alone: what the
/// administration commands need. They never open the books store, whose
/// embedded file a running `serve` holds locked.
pub struct IdentityStores {
    /// The issuer's signing keys.
    pub keys: Arc<dyn KeyStore>,
    /// Users and clients.
    pub accounts: Arc<dyn AccountStore>,
    /// Token status: status list entries and revocations.
    pub status: Arc<dyn StatusStore>,
}

impl IdentityStores {
    /// Secrets Manager and DynamoDB when `KEYSET_SECRET_ID`, `USERS_TABLE`
    /// and `STATUS_TABLE` are set, else the data directory's files.
    pub async fn select(data: &DataDir) -> anyhow::Result<Self> {
        data.create()?;
        let keys: Arc<dyn KeyStore> = match env("KEYSET_SECRET_ID") {
            Some(secret) => Arc::new(SecretsManagerKeyStore::from_env(secret).await),
            None => Arc::new(FileKeyStore::new(data.keyset())),
        };
        let accounts: Arc<dyn AccountStore> = match env("USERS_TABLE") {
            Some(table) => Arc::new(DynamoAccountStore::from_env(table).await),
            None => Arc::new(FileAccountStore::new(data.users())),
        };
        let status: Arc<dyn StatusStore> = match env("STATUS_TABLE") {
            Some(table) => Arc::new(DynamoStatusStore::from_env(table).await),
            None => Arc::new(FileStatusStore::new(data.status())),
        };
        Ok(Self {
            keys,
            accounts,
            status,
        })
    }
}

impl Stores {
    /// The identity stores, plus DynamoDB for books when `BOOKS_TABLE` is
    /// set, else the data directory's embedded database.
    pub async fn select(data: &DataDir) -> anyhow::Result<Self> {
        let IdentityStores {
            keys,
            accounts,
            status,
        } = IdentityStores::select(data).await?;
        let location = BookStoreLocation::from_env(data.books());
        if let BookStoreLocation::Embedded(path) = &location {
            // Created private and never through a link before redb opens it.
            atomic_file::ensure_private(path)?;
        }
        let books = location.open().await?;
        Ok(Self {
            keys,
            accounts,
            status,
            books,
        })
    }
}

/// What a first start created: the generated passwords of the users it
/// made (an existing account is never replaced, so it may make only one).
pub struct FirstStart {
    /// The new `admin`'s password, if it was created.
    pub admin_password: Option<String>,
    /// The new `demo`'s password, if it was created.
    pub demo_password: Option<String>,
}

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 18];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the `admin` and `demo` users that do not exist yet, with
/// generated passwords appended to `DATA_DIR/credentials` (mode 0600, never
/// through a symbolic link). `None` when both exist already.
pub async fn first_start(
    data: &DataDir,
    accounts: &dyn AccountStore,
) -> anyhow::Result<Option<FirstStart>> {
    data.create()?;
    let mut created = FirstStart {
        admin_password: None,
        demo_password: None,
    };
    for (name, scopes) in [
        ("admin", "books:read books:write books:admin keys:admin"),
        ("demo", "books:read books:write"),
    ] {
        if accounts.get(AccountKind::User, name).await?.is_some() {
            continue;
        }
        let password = random_password()?;
        let account = Account::new(AccountKind::User, name, &password, scopes)?;
        // Atomic: an account made meanwhile (by `user add`) is kept.
        if !accounts.insert_new(&account).await? {
            continue;
        }
        use std::io::Write;
        atomic_file::open_private(&data.credentials(), true)?
            .write_all(format!("{name}:{password}\n").as_bytes())?;
        match name {
            "admin" => created.admin_password = Some(password),
            _ => created.demo_password = Some(password),
        }
    }
    Ok((created.admin_password.is_some() || created.demo_password.is_some()).then_some(created))
}

/// The issuer service over the given stores, issuing as `issuer_url` to
/// the local stack's [`audiences`].
pub fn issuer_service(
    stores: &IdentityStores,
    issuer_url: &str,
) -> anyhow::Result<Arc<IssuerService>> {
    issuer_service_recording(
        &stores.keys,
        &stores.accounts,
        &stores.status,
        issuer_url,
        IssuerMetrics::default(),
    )
}

/// The same, over separate stores, recording the issuer's metrics.
pub fn issuer_service_recording(
    keys: &Arc<dyn KeyStore>,
    accounts: &Arc<dyn AccountStore>,
    status: &Arc<dyn StatusStore>,
    issuer_url: &str,
    metrics: IssuerMetrics,
) -> anyhow::Result<Arc<IssuerService>> {
    let audiences = audiences();
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(issuer_url.to_owned()),
        "JWT_AUDIENCE" => Some(audiences.clone()),
        other => std::env::var(other).ok(),
    })?
    // One issuer instance, which re-reads its store every KEYSET_POLL: no
    // other instance's keyset cache to wait for between two rotations.
    .with_keyset_ttl(KEYSET_POLL);
    Ok(Arc::new(
        IssuerService::new(config, Arc::clone(keys), Arc::clone(accounts))
            .with_metrics(metrics)
            .with_status(Arc::clone(status)),
    ))
}

/// The embedded authorizer's configuration: the environment variables of
/// DESIGN.md, with this stack as the issuer (`issuer_url`, its keys and
/// status lists served at `served_at`, `http://` and the address listened
/// on) unless `TRUSTED_ISSUERS` says otherwise, and the audiences the
/// embedded issuer writes.
pub fn authorizer_config(
    issuer_url: &str,
    served_at: &str,
) -> Result<AuthorizerConfig, authorizer::ConfigError> {
    let trusted_issuers_set = std::env::var("TRUSTED_ISSUERS").is_ok();
    let audiences = audiences();
    let served_at = served_at.trim_end_matches('/');
    let jwks_uri = format!("{served_at}/.well-known/jwks.json");
    let mut config = AuthorizerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" if !trusted_issuers_set => Some(issuer_url.to_owned()),
        "JWKS_URI" if !trusted_issuers_set => Some(jwks_uri.clone()),
        "JWT_AUDIENCE" => Some(audiences.clone()),
        "JWT_REQUIRED_TYP" => Some(required_typ()),
        other => std::env::var(other).ok(),
    })?;
    // Tokens name lists under the issuer URL the data dir fixed; this
    // listener serves them, wherever it listens now.
    for issuer in &mut config.issuers {
        if issuer.issuer == issuer_url && issuer_url.trim_end_matches('/') != served_at {
            issuer.status_lists_served_at = Some(served_at.to_owned());
        }
    }
    Ok(config)
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
pub async fn start(stores: Stores, options: StackOptions) -> anyhow::Result<RunningStack> {
    let StackOptions {
        addr,
        authorizer_cache_ttl,
        issuer_url,
        metrics,
        mode,
    } = options;
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let issuer_url = issuer_url.unwrap_or_else(|| format!("http://{addr}"));
    // Keys and status lists are fetched from this very listener, whatever
    // the issuer URL says.
    let served_at = format!("http://{addr}");
    let jwks_uri = format!("{served_at}/.well-known/jwks.json");

    let issuer = issuer_service_recording(
        &stores.keys,
        &stores.accounts,
        &stores.status,
        &issuer_url,
        IssuerMetrics::new(Arc::clone(&metrics)),
    )?;
    let keyset = issuer.keyset().await?; // creates the first keyset on a fresh store
    let status_revision = stores.status.revision().await?;
    let authorizer = Arc::new(Authorizer::new(
        authorizer_config(&issuer_url, &served_at)?,
        Arc::clone(&metrics),
    )?);
    let in_process = matches!(mode, AuthorizerMode::InProcess);
    let gateway_authorizer = gateway_authorizer(mode, &authorizer, &issuer_url, &jwks_uri)?;
    let gateway = Arc::new(
        Gateway::new(
            gateway_authorizer,
            issuer::router(Arc::clone(&issuer)),
            backend::router(Arc::clone(&stores.books)),
            authorizer_cache_ttl,
        )
        .with_metrics(metrics),
    );

    let (stop, task) = serve_gateway(listener, Arc::clone(&gateway));
    // Pre-warm over real HTTP, now that the issuer answers. (A Lambda
    // instance fetches its JWKS itself, in its cold start.)
    if in_process {
        authorizer.prewarm().await;
    }
    let watched = store_watch::Watched {
        keys: Arc::clone(&stores.keys),
        status: Arc::clone(&stores.status),
        keyset_version: keyset.version,
        published: store_watch::published_kids(&keyset),
        status_revision,
    };
    let watcher = tokio::spawn(store_watch::watch(
        watched,
        issuer,
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

/// Where the gateway's authorizer runs: the stack's own (in process) or a
/// Lambda function process configured for the same issuer and JWKS.
fn gateway_authorizer(
    mode: AuthorizerMode,
    authorizer: &Arc<Authorizer>,
    issuer_url: &str,
    jwks_uri: &str,
) -> anyhow::Result<AuthorizerBackend> {
    Ok(match mode {
        AuthorizerMode::InProcess => AuthorizerBackend::InProcess(Arc::clone(authorizer)),
        AuthorizerMode::Lambda { command, settings } => {
            if !jwks_uri.starts_with(issuer_url.trim_end_matches('/')) {
                tracing::warn!(
                    issuer_url,
                    "Lambda mode: the issuer URL is not where this stack listens, so a function \
                     fetches status lists from the issuer URL; tokens with a status claim fail \
                     unless it serves them (set STATUS_LIST_CHECK=off, or serve on that address)"
                );
            }
            authorizer_backend::lambda_backend(
                &command,
                settings,
                issuer_url,
                jwks_uri,
                &audiences(),
            )?
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
