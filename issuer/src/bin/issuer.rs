//! The `issuer` Lambda: the issuer router under `lambda_http`.
//! Keys: `KEYSET_SECRET_ID` (Secrets Manager) or `KEYSET_FILE`; accounts:
//! `USERS_TABLE` (DynamoDB) or `USERS_FILE`. One of each is required.

use std::sync::Arc;

use issuer::account_store::{AccountStore, DynamoAccountStore, FileAccountStore};
use issuer::config::{IssuerConfig, StoreLocation};
use issuer::metrics::IssuerMetrics;
use issuer::service::IssuerService;
use issuer::store::file::FileKeyStore;
use issuer::store::secrets_manager::SecretsManagerKeyStore;
use issuer::store::KeyStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let config = IssuerConfig::from_env()?;
    let env = |name: &str| std::env::var(name).ok();
    // Both checked before anything is built: a misconfigured instance refuses to start.
    let keys_at = StoreLocation::from_lookup(env, "KEYSET_SECRET_ID", "KEYSET_FILE")?;
    let accounts_at = StoreLocation::from_lookup(env, "USERS_TABLE", "USERS_FILE")?;
    let keys: Arc<dyn KeyStore> = match keys_at {
        StoreLocation::Aws(secret) => Arc::new(SecretsManagerKeyStore::from_env(secret).await),
        StoreLocation::File(path) => Arc::new(FileKeyStore::new(path)),
    };
    let accounts: Arc<dyn AccountStore> = match accounts_at {
        StoreLocation::Aws(table) => Arc::new(DynamoAccountStore::from_env(table).await),
        StoreLocation::File(path) => Arc::new(FileAccountStore::new(path)),
    };
    // EMF on stdout: Lambda ships it to CloudWatch Logs, which extracts the metrics.
    let metrics = IssuerMetrics::new(Arc::new(telemetry::StdoutSink));
    let service = Arc::new(IssuerService::new(config, keys, accounts).with_metrics(metrics));
    lambda_http::run(issuer::routes::router(service))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
