//! The `authorizer` Lambda: a `lambda_runtime` function answering API
//! Gateway authorizer events.

use std::sync::Arc;
use std::time::Instant;

use api_routes::ApiRoutes;
use authorizer::{Authorizer, Refusal, RouteTable};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use telemetry::StdoutSink;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    telemetry::init_logging();
    // `ROUTE_SCOPES` unset: the demo API's table (books, shelves and key
    // administration) with its rules.
    let demo = ApiRoutes::demo()?;
    let demo_routes = RouteTable::from_json(
        &demo.route_scopes_json(),
        demo.route_rules_json().as_deref(),
    )?;
    let authorizer = Arc::new(Authorizer::from_env(
        Arc::new(StdoutSink),
        Some(demo_routes),
    )?);
    // Pre-warm during init: the first token then needs no fetch. An
    // unreachable JWKS is logged, not fatal: requests fail closed until a
    // fetch succeeds.
    authorizer.prewarm().await;
    authorizer
        .metrics()
        .cold_start(started.elapsed().as_secs_f64() * 1000.0);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.handle(event.payload).await.map_err(diagnostic) }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}

/// API Gateway answers 401 only when the error message is exactly
/// `Unauthorized`; any other failure is a 500.
fn diagnostic(refusal: Refusal) -> Diagnostic {
    let error_type = match refusal {
        Refusal::Unauthorized => "Unauthorized",
        Refusal::Misconfigured(_) => "Misconfigured",
    };
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: refusal.to_string(),
    }
}
