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

/// Where one JWKS fetch's time went (its discovery included).
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTiming {
    /// The whole fetch.
    pub millis: f64,
    /// DNS lookups (none on a pooled connection or an IP address).
    pub dns_millis: f64,
    /// New connections' TCP and TLS set-up (none on a pooled connection).
    pub connect_millis: f64,
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

    /// One JWKS fetch (`Decision` ok or failed), discovery included.
    pub fn jwks_fetch(&self, issuer: &str, ok: bool, timing: &FetchTiming) {
        let metrics = [
            Metric::count("JwksFetches", 1.0),
            Metric::count("JwksFetchFailures", flag(!ok)),
            Metric::new("JwksFetchTime", Unit::Milliseconds, timing.millis),
            Metric::new("JwksDnsTime", Unit::Milliseconds, timing.dns_millis),
            Metric::new("JwksConnectTime", Unit::Milliseconds, timing.connect_millis),
        ];
        self.emit(if ok { "ok" } else { "failed" }, &metrics, Some(issuer));
    }

    /// One status list fetch (`Decision` ok or failed).
    pub fn status_list_fetch(&self, issuer: &str, ok: bool, millis: f64) {
        let metrics = [
            Metric::count("StatusListFetches", 1.0),
            Metric::count("StatusListFetchFailures", flag(!ok)),
            Metric::new("StatusListFetchTime", Unit::Milliseconds, millis),
        ];
        self.emit(if ok { "ok" } else { "failed" }, &metrics, Some(issuer));
    }

    /// A token checked against a status list past its freshness.
    pub fn status_list_stale_serve(&self, issuer: &str) {
        self.emit(
            NONE,
            &[Metric::count("StatusListStaleServes", 1.0)],
            Some(issuer),
        );
    }

    pub fn stale_serve(&self, issuer: &str) {
        self.emit(NONE, &[Metric::count("JwksStaleServes", 1.0)], Some(issuer));
    }

    /// `count` JWKs of `issuer`'s set refused for `reason` (one of
    /// `JwkError::reason`), counted once per key, not per refetch.
    pub fn keys_refused(&self, issuer: &str, reason: &'static str, count: usize) {
        let metrics = [Metric::count("JwksKeysRefused", count as f64)];
        let record = Record::new(SERVICE, NONE, reason, &metrics);
        self.sink
            .emit(&record.with_properties(&[("Issuer", issuer)]));
    }

    pub fn unknown_kid(&self, issuer: &str) {
        self.emit(
            NONE,
            &[Metric::count("UnknownKidMisses", 1.0)],
            Some(issuer),
        );
    }

    /// Route-rule values (or whole alternatives) that granted nothing
    /// because they could have widened the grant: one record per token.
    pub fn rule_values_refused(&self, count: usize) {
        self.emit(
            NONE,
            &[Metric::count("RuleValuesRefused", count as f64)],
            None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use telemetry::CaptureSink;

    #[test]
    fn every_record_declares_the_three_dimension_sets_with_fixed_values() {
        let sink = CaptureSink::new();
        let metrics = Metrics::new(Arc::new(sink.clone()));
        metrics.decision(Outcome::Deny, "missing_scope", 18.5, true);
        let timing = FetchTiming {
            millis: 12.0,
            dns_millis: 1.0,
            connect_millis: 5.0,
        };
        metrics.jwks_fetch("https://issuer.example", false, &timing);
        metrics.stale_serve("https://issuer.example");
        metrics.unknown_kid("https://issuer.example");
        metrics.cold_start(40.0);
        metrics.status_list_fetch("https://issuer.example", true, 3.0);
        metrics.status_list_stale_serve("https://issuer.example");
        metrics.rule_values_refused(2);
        metrics.keys_refused("https://issuer.example", "roca", 2);
        let lines: Vec<Value> = sink
            .lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 9);
        for line in &lines {
            assert_eq!(
                line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                json!([
                    ["Service"],
                    ["Service", "Decision"],
                    ["Service", "Decision", "Reason"]
                ])
            );
            assert_eq!(line["Service"], "authorizer");
        }
        let dims = |l: &Value| (l["Decision"].clone(), l["Reason"].clone());
        assert_eq!(dims(&lines[0]), (json!("deny"), json!("missing_scope")));
        assert_eq!(lines[0]["DecisionCacheHits"], 1.0);
        assert_eq!(dims(&lines[1]), (json!("failed"), json!("none")));
        assert_eq!(lines[1]["JwksFetchFailures"], 1.0);
        assert_eq!(lines[1]["JwksConnectTime"], 5.0);
        // The issuer URL is a property: logged, never a dimension.
        assert_eq!(lines[1]["Issuer"], "https://issuer.example");
        for line in &lines[2..5] {
            assert_eq!(dims(line), (json!("none"), json!("none")));
        }
        assert_eq!(lines[4]["InitTime"], 40.0);
        assert_eq!(dims(&lines[5]), (json!("ok"), json!("none")));
        assert_eq!(lines[5]["StatusListFetchFailures"], 0.0);
        assert_eq!(lines[5]["Issuer"], "https://issuer.example");
        assert_eq!(dims(&lines[6]), (json!("none"), json!("none")));
        assert_eq!(lines[6]["StatusListStaleServes"], 1.0);
        assert_eq!(dims(&lines[7]), (json!("none"), json!("none")));
        assert_eq!(lines[7]["RuleValuesRefused"], 2.0);
        // A refused key: no outcome, the rule that refused it as the reason.
        assert_eq!(dims(&lines[8]), (json!("none"), json!("roca")));
        assert_eq!(lines[8]["JwksKeysRefused"], 2.0);
        assert_eq!(lines[8]["Issuer"], "https://issuer.example");
    }
}
