//! The `issuer` Lambda: the issuer router under `lambda_http`.
//! Keys: `KEYSET_SECRET_ID` (Secrets Manager) or `KEYSET_FILE`; accounts:
//! `USERS_TABLE` (DynamoDB) or `USERS_FILE`.

use std::sync::Arc;

use issuer::account_store::{AccountStore, DynamoAccountStore, FileAccountStore};
use issuer::config::IssuerConfig;
use issuer::metrics::IssuerMetrics;
use issuer::service::IssuerService;
use issuer::store::file::FileKeyStore;
use issuer::store::secrets_manager::SecretsManagerKeyStore;
use issuer::store::KeyStore;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let config = IssuerConfig::from_env()?;
    let keys: Arc<dyn KeyStore> = match var("KEYSET_SECRET_ID") {
        Some(secret) => Arc::new(SecretsManagerKeyStore::from_env(secret).await),
        None => Arc::new(FileKeyStore::new(
            var("KEYSET_FILE").unwrap_or_else(|| "/tmp/tollgate-keyset.json".to_owned()),
        )),
    };
    let accounts: Arc<dyn AccountStore> = match var("USERS_TABLE") {
        Some(table) => Arc::new(DynamoAccountStore::from_env(table).await),
        None => Arc::new(FileAccountStore::new(
            var("USERS_FILE").unwrap_or_else(|| "/tmp/tollgate-users.json".to_owned()),
        )),
    };
    // EMF on stdout: Lambda ships it to CloudWatch Logs, which extracts the metrics.
    let metrics = IssuerMetrics::new(Arc::new(telemetry::StdoutSink));
    let service = Arc::new(IssuerService::new(config, keys, accounts).with_metrics(metrics));
    lambda_http::run(issuer::routes::router(service))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
