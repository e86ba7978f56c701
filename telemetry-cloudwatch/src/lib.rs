//! Tollgate's metrics in CloudWatch where no Lambda log ingestion extracts
//! EMF (the local stack, a container, a host embedding the `authorizer`
//! library): [`CloudWatchSink`] behind the same recording API as EMF, and
//! [`report`], which reads the namespace back for `tollgate metrics`.
//!
//! A crate of its own, not a feature of `telemetry`: the Lambdas depend on
//! `telemetry`, and feature unification would link the CloudWatch client
//! into them.

pub mod aggregate;
pub mod datums;
pub mod publish;
pub mod report;
pub mod sink;

pub use publish::{RetryPolicy, SinkStats};
pub use sink::{client, CloudWatchSink, Settings, SettingsError};
