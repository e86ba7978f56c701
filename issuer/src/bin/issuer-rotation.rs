//! The `issuer-rotation` Lambda: Secrets Manager's rotation function for the
//! keyset secret (createSecret, setSecret, testSecret, finishSecret).

use aws_lambda_events::event::secretsmanager::SecretsManagerSecretRotationEvent;
use std::sync::Arc;

use environment::unix_now;
use issuer::secrets_manager_key_store;
use issuer::RotationConfig;
use issuer::RotationMetrics;
use issuer::{run_step, RotationError, Step};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};

fn diagnostic(error: RotationError) -> Diagnostic {
    Diagnostic {
        error_type: "RotationError".to_owned(),
        error_message: error.to_string(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let config = RotationConfig::from_env()?;
    // EMF on stdout, one record per step.
    let metrics = RotationMetrics::new(Arc::new(telemetry::StdoutSink));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SecretsManagerSecretRotationEvent>| {
        let metrics = metrics.clone();
        async move {
            let event = event.payload;
            let parsed = Step::parse(&event.step);
            let step = parsed.as_ref().ok().copied();
            let result = match parsed {
                Ok(step) => {
                    let store = secrets_manager_key_store(event.secret_id.clone()).await;
                    tracing::info!(step = %event.step, token = %event.client_request_token, "rotation step");
                    run_step(&store, step, &event.client_request_token, &config, unix_now()).await
                }
                Err(error) => Err(error),
            };
            metrics.step(step, &result);
            result.map_err(diagnostic)
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
