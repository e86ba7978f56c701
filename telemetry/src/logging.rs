//! `tracing` set-up for Lambda: one JSON object per log line.

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

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
    let _ = json_subscriber(spec.as_deref(), std::io::stdout).try_init();
}

/// JSON lines at the level `spec` asks for (`info` when unset or invalid),
/// never with `lambda_runtime`'s raw events.
fn json_subscriber<W>(spec: Option<&str>, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = spec
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        // Lambda stamps every line with its own time.
        .without_time()
        .finish()
        .with(filter_fn(|meta| !is_raw_event(meta)))
}

/// `lambda_runtime` logs every raw event at TRACE: bearer tokens, and the
/// issuer's passwords and client secrets. Left out whatever level an
/// operator turns on to debug: a layer, because an `EnvFilter` directive for
/// the crate loses to one an operator writes for a longer target prefix.
fn is_raw_event(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::TRACE && meta.target().starts_with("lambda_runtime")
}

#[cfg(test)]
mod tests {
    use testkit::CapturedLogs;

    use super::*;

    /// What the subscriber for `spec` lets through of a raw-event trace from
    /// `lambda_runtime`, a debug line from it, and a trace from our code.
    fn logged(spec: &str) -> String {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = json_subscriber(Some(spec), move || writer.clone());
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
            "lambda_runtime::layers=trace",
            "lambda_runtime::layers::api_response=trace",
            "lambda_run=trace",
        ] {
            let out = logged(spec);
            assert!(!out.contains("SECRET"), "{spec}: {out}");
        }
        let out = logged("trace");
        assert!(out.contains("our trace line"), "{out}");
        assert!(out.contains("runtime debug line"), "{out}");
    }

    #[test]
    fn the_level_asked_for_holds_otherwise() {
        let out = logged("warn");
        assert!(!out.contains("runtime debug line"), "{out}");
        assert!(!out.contains("our trace line"), "{out}");
        let out = logged("not a filter spec [");
        assert!(
            !out.contains("runtime debug line"),
            "info when invalid: {out}"
        );
    }
}
