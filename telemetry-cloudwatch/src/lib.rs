//! Tollgate's metrics in CloudWatch where no Lambda log ingestion extracts
//! EMF (the local stack, a container, a host embedding the `authorizer`
//! library): [`CloudWatchSink`] takes records through the same recording
//! API as EMF, aggregates them in memory between flushes (bounded by
//! [`Limits`]) and sends them with `PutMetricData`, retrying within a budget
//! ([`RetryPolicy`]) so that an outage costs counted data, never a request.
//! [`read`] and [`read_from_env`] read the namespace back for
//! `tollgate metrics`.
//!
//! A crate of its own, not a feature of `telemetry`: the Lambdas depend on
//! `telemetry`, and feature unification would link the CloudWatch client
//! into them.
//!
//! ```
//! use std::time::Duration;
//! use telemetry_cloudwatch::{parse_since, Settings};
//!
//! let settings = Settings::from_lookup(|_| Some("5".to_owned()))?;
//! assert_eq!(settings.flush_interval, Duration::from_secs(5));
//! assert_eq!(parse_since("90m")?, Duration::from_secs(5400));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod aggregate;
mod datums;
mod publish;
mod report;
mod sink;

pub use aggregate::{Aggregator, Limits};
pub use publish::{RetryPolicy, SinkStats};
pub use report::{parse_since, read, read_from_env, Report, ReportError, SeriesId, Stats};
pub use sink::{
    client, CloudWatchSink, Settings, SettingsError, DEFAULT_FLUSH_SECONDS, FLUSH_SECONDS_VAR,
};
