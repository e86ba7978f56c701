//! Sends `PutMetricData` requests with retries and backoff. A request that
//! still fails is dropped: its datums are counted as lost, and an outage is
//! logged once when it starts and once when it ends, not per request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types::MetricDatum;
use aws_sdk_cloudwatch::Client;

/// How often and how patiently a request is retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub attempts: u32,
    /// The wait before the second try; doubled for each further one.
    pub first_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, failed_attempts: u32) -> Duration {
        let factor = 1u32 << failed_attempts.saturating_sub(1).min(16);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// What the sink did, since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// `PutMetricData` requests that succeeded.
    pub requests_sent: u64,
    /// Datums those requests carried.
    pub datums_sent: u64,
    /// Attempts that failed (each retry counts).
    pub attempts_failed: u64,
    /// Datums given up on after the last retry.
    pub datums_lost: u64,
    /// Values not aggregated because the series limit was reached.
    pub values_dropped: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests_sent: AtomicU64,
    datums_sent: AtomicU64,
    attempts_failed: AtomicU64,
    datums_lost: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self, values_dropped: u64) -> SinkStats {
        SinkStats {
            requests_sent: self.requests_sent.load(Ordering::Relaxed),
            datums_sent: self.datums_sent.load(Ordering::Relaxed),
            attempts_failed: self.attempts_failed.load(Ordering::Relaxed),
            datums_lost: self.datums_lost.load(Ordering::Relaxed),
            values_dropped,
        }
    }
}

/// Why an attempt failed, as far as retrying goes.
fn retryable<E: ProvideErrorMetadata>(error: &E) -> bool {
    // Invalid input stays invalid; throttling, 5xx, timeouts and transport
    // errors may pass on a later attempt.
    !error
        .code()
        .is_some_and(|code| code.starts_with("InvalidParameter") || code == "MissingParameter")
}

pub(crate) struct Publisher {
    client: Client,
    namespace: String,
    retry: RetryPolicy,
    pub(crate) counters: Counters,
    in_outage: AtomicBool,
}

impl Publisher {
    pub(crate) fn new(client: Client, namespace: String, retry: RetryPolicy) -> Self {
        Self {
            client,
            namespace,
            retry,
            counters: Counters::default(),
            in_outage: AtomicBool::new(false),
        }
    }

    /// Sends each batch; never fails, only counts.
    pub(crate) async fn publish(&self, batches: Vec<Vec<MetricDatum>>) {
        for batch in batches {
            self.publish_one(batch).await;
        }
    }

    async fn publish_one(&self, batch: Vec<MetricDatum>) {
        let datums = batch.len() as u64;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(batch.clone()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    self.counters.requests_sent.fetch_add(1, Ordering::Relaxed);
                    self.counters
                        .datums_sent
                        .fetch_add(datums, Ordering::Relaxed);
                    if self.in_outage.swap(false, Ordering::Relaxed) {
                        let lost = self.counters.datums_lost.load(Ordering::Relaxed);
                        tracing::info!(
                            datums_lost_so_far = lost,
                            "CloudWatch metrics flowing again"
                        );
                    }
                    return;
                }
                Err(error) => {
                    self.counters
                        .attempts_failed
                        .fetch_add(1, Ordering::Relaxed);
                    let retry = retryable(&error) && attempt < self.retry.attempts;
                    if retry {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        continue;
                    }
                    self.counters
                        .datums_lost
                        .fetch_add(datums, Ordering::Relaxed);
                    if !self.in_outage.swap(true, Ordering::Relaxed) {
                        let error = aws_sdk_cloudwatch::error::DisplayErrorContext(&error);
                        tracing::warn!(%error, datums, "CloudWatch PutMetricData failed; metrics are dropped (not requests) until it answers again");
                    }
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let policy = RetryPolicy {
            attempts: 10,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
    }
}
