//! The authorizer's CloudWatch metrics (EMF), namespace `Tollgate`.
//!
//! Dimensions stay low-cardinality: `Service`, plus `Decision` and `Reason`
//! (fixed vocabularies) on decision records. The issuer URL is a property,
//! not a dimension.

use std::sync::Arc;

use telemetry::{MetricRecord, MetricsSink, Unit};

const NAMESPACE: &str = "Tollgate";
const SERVICE: &str = "authorizer";

/// What the authorizer answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    Unauthorized,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Unauthorized => "unauthorized",
        }
    }
}

/// Emits the authorizer's metric records to a sink.
#[derive(Clone)]
pub struct Metrics {
    sink: Arc<dyn MetricsSink>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new(sink: Arc<dyn MetricsSink>) -> Self {
        Self { sink }
    }

    fn record(&self) -> MetricRecord {
        MetricRecord::new(NAMESPACE).dimension("Service", SERVICE)
    }

    /// One answered invocation.
    pub fn decision(
        &self,
        outcome: Outcome,
        reason: &'static str,
        verify_micros: f64,
        cache_hit: bool,
    ) {
        self.sink.emit(
            &self
                .record()
                .dimension("Decision", outcome.as_str())
                .dimension("Reason", reason)
                .metric("Decisions", Unit::Count, 1.0)
                .metric("VerificationTime", Unit::Microseconds, verify_micros)
                .metric(
                    "DecisionCacheHits",
                    Unit::Count,
                    if cache_hit { 1.0 } else { 0.0 },
                ),
        );
    }

    pub fn jwks_fetch(&self, issuer: &str, ok: bool, millis: f64) {
        self.sink.emit(
            &self
                .record()
                .metric("JwksFetches", Unit::Count, 1.0)
                .metric("JwksFetchFailures", Unit::Count, if ok { 0.0 } else { 1.0 })
                .metric("JwksFetchTime", Unit::Milliseconds, millis)
                .property("Issuer", issuer),
        );
    }

    pub fn stale_serve(&self, issuer: &str) {
        self.sink.emit(
            &self
                .record()
                .metric("JwksStaleServes", Unit::Count, 1.0)
                .property("Issuer", issuer),
        );
    }

    pub fn unknown_kid(&self, issuer: &str) {
        self.sink.emit(
            &self
                .record()
                .metric("UnknownKidMisses", Unit::Count, 1.0)
                .property("Issuer", issuer),
        );
    }

    pub fn cold_start(&self, init_millis: f64) {
        self.sink
            .emit(&self.record().metric("ColdStart", Unit::Count, 1.0).metric(
                "InitTime",
                Unit::Milliseconds,
                init_millis,
            ));
    }
}
