//! The local stack: issuer, authorizer and books behind the gateway on one
//! loopback address, with embedded stores in the data directory (keys,
//! users and books survive a restart), or AWS's when configured. The
//! authorizer fetches the JWKS from the issuer over real loopback HTTP, as
//! it does on AWS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, AuthorizerConfig};
use backend::store::dynamo::DynamoStore;
use backend::store::embedded::EmbeddedStore;
use backend::BookStore;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use issuer::account_store::{AccountStore, DynamoAccountStore, FileAccountStore};
use issuer::accounts::{Account, AccountKind};
use issuer::config::IssuerConfig;
use issuer::service::IssuerService;
use issuer::store::file::FileKeyStore;
use issuer::store::secrets_manager::SecretsManagerKeyStore;
use issuer::store::KeyStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::authorizer_backend::{self, AuthorizerBackend, AuthorizerMode};
use crate::gateway::Gateway;

/// The audience of local tokens.
pub const AUDIENCE: &str = "books-api";

/// Where the local stack keeps its state.
#[derive(Clone, Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn keyset(&self) -> PathBuf {
        self.0.join("keyset.json")
    }
    pub fn users(&self) -> PathBuf {
        self.0.join("users.json")
    }
    pub fn books(&self) -> PathBuf {
        self.0.join("books.redb")
    }
    pub fn credentials(&self) -> PathBuf {
        self.0.join("credentials")
    }
}

/// A running stack; stops when `shutdown` is called or the process is signalled.
pub struct RunningStack {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningStack {
    /// Stops accepting, lets in-flight requests finish, and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// The stores behind the stack: the data directory's files by default;
/// Secrets Manager and DynamoDB when `KEYSET_SECRET_ID`, `USERS_TABLE` and
/// `BOOKS_TABLE` are set (with credentials, or `AWS_ENDPOINT_URL` for moto).
pub struct Stores {
    pub keys: Arc<dyn KeyStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub books: Arc<dyn BookStore>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Stores {
    pub async fn select(data: &DataDir) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&data.0)?;
        let keys: Arc<dyn KeyStore> = match env("KEYSET_SECRET_ID") {
            Some(secret) => Arc::new(SecretsManagerKeyStore::from_env(secret).await),
            None => Arc::new(FileKeyStore::new(data.keyset())),
        };
        let accounts: Arc<dyn AccountStore> = match env("USERS_TABLE") {
            Some(table) => Arc::new(DynamoAccountStore::from_env(table).await),
            None => Arc::new(FileAccountStore::new(data.users())),
        };
        let books: Arc<dyn BookStore> = match env("BOOKS_TABLE") {
            Some(table) => Arc::new(DynamoStore::from_env(table).await),
            None => Arc::new(EmbeddedStore::open(&data.books())?),
        };
        Ok(Self {
            keys,
            accounts,
            books,
        })
    }
}

/// What a first start created: the generated credentials.
pub struct FirstStart {
    pub admin_password: String,
    pub demo_password: String,
}

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 18];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the admin and demo users with generated passwords, written once
/// to `DATA_DIR/credentials` (mode 0600). `None` if an admin exists already.
pub async fn first_start(
    data: &DataDir,
    accounts: &dyn AccountStore,
) -> anyhow::Result<Option<FirstStart>> {
    if accounts.get(AccountKind::User, "admin").await?.is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(&data.0)?;
    let (admin_password, demo_password) = (random_password()?, random_password()?);
    for (name, password, scopes) in [
        (
            "admin",
            &admin_password,
            "books:read books:write books:admin keys:admin",
        ),
        ("demo", &demo_password, "books:read books:write"),
    ] {
        accounts
            .put(&Account {
                kind: AccountKind::User,
                name: name.to_owned(),
                secret_hash: issuer::password::hash_secret(password)?,
                scopes: scopes.split(' ').map(str::to_owned).collect(),
                disabled: false,
            })
            .await?;
    }
    write_private(
        &data.credentials(),
        format!("admin:{admin_password}\ndemo:{demo_password}\n").as_bytes(),
    )?;
    Ok(Some(FirstStart {
        admin_password,
        demo_password,
    }))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

/// The issuer service over the selected stores, issuing as `issuer_url`.
pub fn issuer_service(stores: &Stores, issuer_url: &str) -> anyhow::Result<Arc<IssuerService>> {
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(issuer_url.to_owned()),
        "JWT_AUDIENCE" => Some(AUDIENCE.to_owned()),
        other => std::env::var(other).ok(),
    })?;
    Ok(Arc::new(IssuerService::new(
        config,
        Arc::clone(&stores.keys),
        Arc::clone(&stores.accounts),
    )))
}

/// Binds `addr`, wires the three parts and serves until shut down.
pub async fn start(
    stores: Stores,
    addr: SocketAddr,
    authorizer_cache_ttl: Duration,
) -> anyhow::Result<RunningStack> {
    start_with(
        stores,
        addr,
        authorizer_cache_ttl,
        AuthorizerMode::InProcess,
    )
    .await
}

/// [`start`], with the authorizer run as `mode` says.
pub async fn start_with(
    stores: Stores,
    addr: SocketAddr,
    authorizer_cache_ttl: Duration,
    mode: AuthorizerMode,
) -> anyhow::Result<RunningStack> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let issuer_url = format!("http://{addr}");

    let issuer = issuer_service(&stores, &issuer_url)?;
    issuer.keyset().await?; // creates the first keyset on a fresh store
                            // The authorizer environment variables of DESIGN.md apply; the issuer is this stack.
    let authorizer_config = AuthorizerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" if std::env::var("TRUSTED_ISSUERS").is_err() => Some(issuer_url.clone()),
        "JWKS_URI" if std::env::var("TRUSTED_ISSUERS").is_err() => {
            Some(format!("{issuer_url}/.well-known/jwks.json"))
        }
        "JWT_AUDIENCE" => std::env::var(name)
            .ok()
            .or_else(|| Some(AUDIENCE.to_owned())),
        other => std::env::var(other).ok(),
    })?;
    let authorizer = Arc::new(Authorizer::new(
        authorizer_config,
        Arc::new(telemetry::DiscardSink),
    )?);
    let in_process = matches!(mode, AuthorizerMode::InProcess);
    let gateway_authorizer = match mode {
        AuthorizerMode::InProcess => AuthorizerBackend::InProcess(Arc::clone(&authorizer)),
        AuthorizerMode::Lambda { command, settings } => {
            authorizer_backend::lambda_backend(&command, settings, &issuer_url, AUDIENCE)?
        }
    };
    let gateway = Arc::new(Gateway::new(
        gateway_authorizer,
        issuer::routes::router(issuer),
        backend::router(Arc::clone(&stores.books)),
        authorizer_cache_ttl,
    ));

    let (stop, stopped) = oneshot::channel::<()>();
    let app = Arc::clone(&gateway).router();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "server stopped");
        }
    });
    // Pre-warm over real HTTP, now that the issuer answers. (A Lambda
    // instance fetches its JWKS itself, in its cold start.)
    if in_process {
        authorizer.prewarm().await;
    }
    Ok(RunningStack {
        addr,
        gateway,
        stop: Some(stop),
        task,
    })
}
