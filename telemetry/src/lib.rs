//! Telemetry shared by Tollgate's Lambdas: JSON logs through `tracing`, and
//! CloudWatch Embedded Metric Format (EMF) lines.
//!
//! EMF lines are written to stdout as raw JSON, one per line, outside the log
//! formatter: CloudWatch only extracts metrics from a line that is itself the
//! EMF document, not from one wrapped in a log record.

pub mod emf;
pub mod logging;

pub use emf::{CaptureSink, DiscardSink, MetricRecord, MetricsSink, StdoutSink, Unit};
pub use logging::init_logging;
