//! Telemetry shared by Tollgate's services: JSON logs through `tracing`, the
//! metric recording API, and CloudWatch Embedded Metric Format (EMF) lines.
//!
//! EMF lines are written to stdout as raw JSON, one per line, outside the log
//! formatter: CloudWatch only extracts metrics from a line that is itself the
//! EMF document, not from one wrapped in a log record. The CloudWatch
//! `PutMetricData` sink lives in `telemetry-cloudwatch`, which Lambdas never
//! link.

#![deny(missing_docs)]

pub mod emf;
pub mod logging;
pub mod record;

pub use emf::{CaptureSink, StdoutSink};
pub use logging::init_logging;
pub use record::{DiscardSink, Metric, MetricsSink, Record, Unit, DIMENSION_SETS, NAMESPACE, NONE};
