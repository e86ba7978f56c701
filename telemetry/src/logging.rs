//! `tracing` set-up for Lambda: one JSON object per log line.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

/// `lambda_runtime` logs every raw event at TRACE: bearer tokens, and the
/// issuer's passwords and client secrets. Whatever level an operator turns
/// on to debug, that crate goes no lower than DEBUG.
const RAW_EVENT_CAP: &str = "lambda_runtime=debug";

/// Installs a JSON `tracing` subscriber writing to stdout.
///
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
/// controls), else `RUST_LOG`, else `info`. Calling it twice is harmless: the
/// second call leaves the first subscriber in place.
pub fn init_logging() {
    let spec = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| level.to_ascii_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(spec.as_deref()))
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        // Lambda stamps every line with its own time.
        .without_time()
        .try_init();
}

/// The filter `spec` asks for (`info` when unset or invalid), with the raw
/// events of `lambda_runtime` kept out when it reaches TRACE.
fn log_filter(spec: Option<&str>) -> EnvFilter {
    let filter = spec
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // No hint (filters on span fields): cap too, to be safe.
    if filter
        .max_level_hint()
        .is_some_and(|level| level < LevelFilter::TRACE)
    {
        return filter;
    }
    match RAW_EVENT_CAP.parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    }
}

#[cfg(test)]
mod tests {
    use testkit::CapturedLogs;

    use super::*;

    /// What the filter for `spec` lets through of a raw-event trace from
    /// `lambda_runtime`, a debug line from it, and a trace from our code.
    fn logged(spec: &str) -> String {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(Some(spec)))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "Bearer SECRET", "raw JSON event received from Lambda");
            tracing::debug!(target: "lambda_runtime::runtime", "runtime debug line");
            tracing::trace!(target: "authorizer::answer", "our trace line");
        });
        logs.text()
    }

    #[test]
    fn trace_never_logs_the_raw_event() {
        for spec in [
            "trace",
            "TRACE",
            "info,lambda_runtime=trace",
            "lambda_runtime=trace",
        ] {
            let out = logged(spec);
            assert!(!out.contains("SECRET"), "{spec}: {out}");
        }
        let out = logged("trace");
        assert!(out.contains("our trace line"), "{out}");
        assert!(out.contains("runtime debug line"), "{out}");
    }

    #[test]
    fn a_quieter_level_is_not_raised_by_the_cap() {
        let out = logged("warn");
        assert!(!out.contains("runtime debug line"), "{out}");
        assert!(!out.contains("our trace line"), "{out}");
    }
}
