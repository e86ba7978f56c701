//! `tracing` set-up for Lambda: one JSON object per log line.

use tracing_subscriber::EnvFilter;

/// Installs a JSON `tracing` subscriber writing to stdout.
///
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
/// controls), else `RUST_LOG`, else `info`. Calling it twice is harmless: the
/// second call leaves the first subscriber in place.
pub fn init_logging() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| level.to_ascii_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        // Lambda stamps every line with its own time.
        .without_time()
        .try_init();
}
