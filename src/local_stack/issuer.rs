//! The stack's issuer: the issuer service over the stack's stores, issuing
//! to the stack's audiences, re-reading its keyset as often as the stack
//! looks for changes made beside it.

use std::sync::Arc;
use std::time::Duration;

use issuer::{IssuerConfig, IssuerMetrics, IssuerService};

/// The audience of local tokens unless `JWT_AUDIENCE` names others.
pub const AUDIENCE: &str = "books-api";

/// The audiences of the local stack: `JWT_AUDIENCE` (comma-separated) or
/// [`AUDIENCE`]. The embedded issuer puts exactly these in `aud` and the
/// embedded authorizer accepts exactly these, so the two cannot disagree.
pub fn audiences() -> String {
    environment::Settings::from_env()
        .text("JWT_AUDIENCE")
        .unwrap_or_else(|| AUDIENCE.to_owned())
}

/// How often a running stack looks at the keyset and token status stores
/// for changes made beside it (`tollgate keys revoke` or `rotate`, `tollgate
/// token revoke` or `user revoke-tokens` on the same data dir).
pub const KEYSET_POLL: Duration = Duration::from_secs(1);

/// The issuer service over the given stores, issuing as `issuer_url` to
/// the local stack's [`audiences`].
pub fn issuer_service(
    stores: &issuer::Stores,
    issuer_url: &str,
) -> anyhow::Result<Arc<IssuerService>> {
    Ok(Arc::new(issuer_service_recording(
        stores,
        issuer_url,
        IssuerMetrics::default(),
    )?))
}

/// The same, recording the issuer's metrics (not yet shared, so the stack
/// can add its DPoP replay store and address).
pub fn issuer_service_recording(
    stores: &issuer::Stores,
    issuer_url: &str,
    metrics: IssuerMetrics,
) -> anyhow::Result<IssuerService> {
    let audiences = audiences();
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(issuer_url.to_owned()),
        "JWT_AUDIENCE" => Some(audiences.clone()),
        other => std::env::var(other).ok(),
    })?
    // One issuer instance, which re-reads its store every KEYSET_POLL: no
    // other instance's keyset cache to wait for between two rotations.
    .with_keyset_ttl(KEYSET_POLL);
    Ok(IssuerService::new(
        config,
        Arc::clone(&stores.keys),
        Arc::clone(&stores.accounts),
    )
    .with_metrics(metrics)
    .with_status(Arc::clone(&stores.status)))
}
