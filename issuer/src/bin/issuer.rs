//! The `issuer` Lambda: the issuer router under `lambda_http`.
//! Keys: `KEYSET_SECRET_ID` (Secrets Manager) or `KEYSET_FILE`; accounts:
//! `USERS_TABLE` (DynamoDB) or `USERS_FILE`; token status: `STATUS_TABLE`
//! (DynamoDB) or `STATUS_FILE`. One of each is required.

use std::sync::Arc;

use issuer::IssuerConfig;
use issuer::IssuerMetrics;
use issuer::IssuerService;
use issuer::Stores;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let config = IssuerConfig::from_env()?;
    let stores = Stores::from_env().await?;
    // EMF on stdout: Lambda ships it to CloudWatch Logs, which extracts the metrics.
    let metrics = IssuerMetrics::new(Arc::new(telemetry::StdoutSink));
    let service = Arc::new(
        IssuerService::new(config, stores.keys, stores.accounts)
            .with_metrics(metrics)
            .with_status(stores.status),
    );
    lambda_http::run(issuer::router(service))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
