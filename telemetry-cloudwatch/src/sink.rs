//! `CloudWatchSink`: a [`MetricsSink`] that aggregates records in memory and
//! sends them with `PutMetricData` from a background task, every
//! `flush_interval` and at shutdown. Recording only updates the aggregate
//! under a short lock: CloudWatch is never on a request's path, and its
//! failures cost metrics, never requests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::Client;
use telemetry::{MetricsSink, Record, NAMESPACE};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::aggregate::{Aggregator, Limits};
use crate::datums::{batches, datums};
use crate::publish::{Publisher, RetryPolicy, SinkStats};

/// The flush interval's environment variable.
pub const FLUSH_SECONDS_VAR: &str = "METRICS_FLUSH_SECONDS";
/// The flush interval when the variable is unset: CloudWatch's finest
/// standard resolution.
pub const DEFAULT_FLUSH_SECONDS: u64 = 60;

/// Why the sink cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `METRICS_FLUSH_SECONDS` is not 1 to 3600.
    #[error("{FLUSH_SECONDS_VAR} must be a whole number of seconds from 1 to 3600, got {0:?}")]
    FlushSeconds(String),
    /// No region to send to.
    #[error("--metrics cloudwatch needs an AWS region: set AWS_REGION (or a profile's region)")]
    NoRegion,
}

/// How the sink aggregates, flushes and retries.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `Tollgate`; another namespace keeps a test's or a stage's data apart.
    pub namespace: String,
    /// How often the aggregate is sent.
    pub flush_interval: Duration,
    /// What one window may hold.
    pub limits: Limits,
    /// How a failed `PutMetricData` is retried.
    pub retry: RetryPolicy,
    /// The longest a shutdown waits for the last flush.
    pub shutdown_timeout: Duration,
    /// The longest one `PutMetricData` attempt may take.
    pub attempt_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace: NAMESPACE.to_owned(),
            flush_interval: Duration::from_secs(DEFAULT_FLUSH_SECONDS),
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            shutdown_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// The defaults, with `METRICS_FLUSH_SECONDS` from `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let seconds = environment::Settings::new(&lookup)
            .number_in(FLUSH_SECONDS_VAR, DEFAULT_FLUSH_SECONDS, 1..=3600)
            .map_err(|_| {
                SettingsError::FlushSeconds(lookup(FLUSH_SECONDS_VAR).unwrap_or_default())
            })?;
        Ok(Self {
            flush_interval: Duration::from_secs(seconds),
            ..Self::default()
        })
    }

    /// The defaults, with `METRICS_FLUSH_SECONDS` from the environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(environment::process_lookup)
    }
}

/// A CloudWatch client from the standard AWS environment (`AWS_ENDPOINT_URL`
/// included), without the SDK's own retries: the sink retries, with its own
/// budget, and every attempt is bounded in time.
pub fn client(config: &aws_config::SdkConfig, settings: &Settings) -> Client {
    let config = aws_sdk_cloudwatch::config::Builder::from(config)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.attempt_timeout.min(Duration::from_secs(2)))
                .operation_attempt_timeout(settings.attempt_timeout)
                .build(),
        )
        .build();
    Client::from_conf(config)
}

struct Shared {
    aggregator: Mutex<Aggregator>,
    publisher: Publisher,
    /// Serializes flushes (the timer's and an explicit one).
    flushing: tokio::sync::Mutex<()>,
}

impl Shared {
    async fn flush(&self) {
        let _one_at_a_time = self.flushing.lock().await;
        let snapshot = match self.aggregator.lock() {
            Ok(mut aggregator) => aggregator.take(),
            Err(_) => return,
        };
        if snapshot.series.is_empty() {
            return;
        }
        let timestamp = snapshot.opened_at.unwrap_or_else(SystemTime::now);
        self.publisher
            .publish(batches(datums(&snapshot, timestamp)))
            .await;
    }
}

/// The sink; see the module documentation.
pub struct CloudWatchSink {
    shared: Arc<Shared>,
    stop: Arc<Notify>,
    task: Mutex<Option<JoinHandle<()>>>,
    shutdown_timeout: Duration,
}

impl std::fmt::Debug for CloudWatchSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudWatchSink")
            .field("stats", &self.stats())
            .finish()
    }
}

impl CloudWatchSink {
    /// Starts the flush task on the current Tokio runtime.
    pub fn start(client: Client, settings: Settings) -> Arc<Self> {
        let shared = Arc::new(Shared {
            aggregator: Mutex::new(Aggregator::new(settings.limits)),
            publisher: Publisher::new(client, settings.namespace.clone(), settings.retry),
            flushing: tokio::sync::Mutex::new(()),
        });
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(flush_loop(
            Arc::clone(&shared),
            Arc::clone(&stop),
            settings.flush_interval,
        ));
        Arc::new(Self {
            shared,
            stop,
            task: Mutex::new(Some(task)),
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    /// The sink for the standard AWS environment and `METRICS_FLUSH_SECONDS`.
    pub async fn from_env() -> Result<Arc<Self>, SettingsError> {
        let settings = Settings::from_env()?;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        // Without a region every send would fail: say so at start instead.
        if config.region().is_none() {
            return Err(SettingsError::NoRegion);
        }
        let client = client(&config, &settings);
        Ok(Self::start(client, settings))
    }

    /// Sends what is pending now (retries included).
    pub async fn flush(&self) {
        self.shared.flush().await;
    }

    /// Stops the timer and sends what is pending, waiting at most the
    /// shutdown timeout. Records after this are kept but not sent.
    pub async fn shutdown(&self) {
        self.stop.notify_one();
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        let Some(mut task) = task else { return };
        if tokio::time::timeout(self.shutdown_timeout, &mut task)
            .await
            .is_err()
        {
            task.abort();
            let (series, _) = self.pending();
            tracing::warn!(
                series,
                "CloudWatch metrics not flushed before the shutdown timeout"
            );
        }
    }

    /// Counters of what was sent, lost and dropped.
    pub fn stats(&self) -> SinkStats {
        let dropped = self
            .shared
            .aggregator
            .lock()
            .map(|a| a.dropped())
            .unwrap_or_default();
        self.shared.publisher.counters.snapshot(dropped)
    }

    /// Series and distinct values waiting for the next flush.
    pub fn pending(&self) -> (usize, usize) {
        self.shared
            .aggregator
            .lock()
            .map(|a| a.size())
            .unwrap_or_default()
    }
}

async fn flush_loop(shared: Arc<Shared>, stop: Arc<Notify>, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => shared.flush().await,
            _ = stop.notified() => break,
        }
    }
    shared.flush().await;
}

impl MetricsSink for CloudWatchSink {
    fn emit(&self, record: &Record<'_>) {
        if let Ok(mut aggregator) = self.shared.aggregator.lock() {
            aggregator.record(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_interval_from_the_environment() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.flush_interval, Duration::from_secs(60));
        let settings = Settings::from_lookup(|_| Some("5".to_owned())).unwrap();
        assert_eq!(settings.flush_interval, Duration::from_secs(5));
        for bad in ["0", "-1", "1.5", "soon", "3601"] {
            let error = Settings::from_lookup(|_| Some(bad.to_owned())).unwrap_err();
            assert!(error.to_string().contains(FLUSH_SECONDS_VAR), "{bad}");
        }
    }
}
