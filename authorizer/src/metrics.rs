//! The authorizer's CloudWatch metrics (`Service=authorizer`).
//!
//! Dimensions stay low-cardinality: `Decision` and `Reason` come from fixed
//! vocabularies (README's metrics list). The issuer URL is a property, never
//! a dimension. Records are built on the stack: recording a decision costs
//! no allocation beyond what the sink does.

use std::sync::Arc;

use telemetry::{Metric, MetricsSink, Record, Unit, NONE};

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

fn flag(on: bool) -> f64 {
    if on {
        1.0
    } else {
        0.0
    }
}

impl Metrics {
    pub fn new(sink: Arc<dyn MetricsSink>) -> Self {
        Self { sink }
    }

    fn emit(&self, decision: &'static str, metrics: &[Metric], issuer: Option<&str>) {
        let record = Record::new(SERVICE, decision, NONE, metrics);
        match issuer {
            Some(issuer) => self
                .sink
                .emit(&record.with_properties(&[("Issuer", issuer)])),
            None => self.sink.emit(&record),
        }
    }

    /// One answered invocation; `reason` is `ok` or the refusal reason.
    pub fn decision(
        &self,
        outcome: Outcome,
        reason: &'static str,
        verify_micros: f64,
        cache_hit: bool,
    ) {
        let metrics = [
            Metric::count("Decisions", 1.0),
            Metric::new("VerificationTime", Unit::Microseconds, verify_micros),
            Metric::count("DecisionCacheHits", flag(cache_hit)),
        ];
        self.sink
            .emit(&Record::new(SERVICE, outcome.as_str(), reason, &metrics));
    }

    /// One JWKS fetch (`Decision` ok or failed).
    pub fn jwks_fetch(&self, issuer: &str, ok: bool, millis: f64) {
        let metrics = [
            Metric::count("JwksFetches", 1.0),
            Metric::count("JwksFetchFailures", flag(!ok)),
            Metric::new("JwksFetchTime", Unit::Milliseconds, millis),
        ];
        self.emit(if ok { "ok" } else { "failed" }, &metrics, Some(issuer));
    }

    pub fn stale_serve(&self, issuer: &str) {
        self.emit(NONE, &[Metric::count("JwksStaleServes", 1.0)], Some(issuer));
    }

    pub fn unknown_kid(&self, issuer: &str) {
        self.emit(
            NONE,
            &[Metric::count("UnknownKidMisses", 1.0)],
            Some(issuer),
        );
    }

    pub fn cold_start(&self, init_millis: f64) {
        let metrics = [
            Metric::count("ColdStart", 1.0),
            Metric::new("InitTime", Unit::Milliseconds, init_millis),
        ];
        self.emit(NONE, &metrics, None);
    }
}
