//! CloudWatch Embedded Metric Format records and where they are written.
//!
//! Format reference: the `_aws` member names the namespace, the dimension sets
//! and each metric's unit; dimension values and metric values are top-level
//! members of the same object.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Units CloudWatch understands, as EMF spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Microseconds,
    Milliseconds,
    Bytes,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Microseconds => "Microseconds",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// One EMF document: a namespace, one set of dimensions, metrics and extra
/// (non-dimension) properties that stay searchable in Logs Insights.
#[derive(Clone, Debug)]
pub struct MetricRecord {
    namespace: &'static str,
    dimensions: Vec<(&'static str, String)>,
    metrics: Vec<(&'static str, Unit, f64)>,
    properties: Vec<(&'static str, String)>,
}

impl MetricRecord {
    pub fn new(namespace: &'static str) -> Self {
        Self {
            namespace,
            dimensions: Vec::new(),
            metrics: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// Adds a dimension. Keep values low-cardinality: each distinct
    /// combination is a separate (billed) CloudWatch metric.
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Self {
        self.metrics.push((name, unit, value));
        self
    }

    /// Adds a property that is logged with the record but is not a dimension.
    pub fn property(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.properties.push((name, value.into()));
        self
    }

    /// Renders the record as one line of JSON, stamped with `timestamp_ms`.
    pub fn to_json_line(&self, timestamp_ms: u64) -> String {
        let dimension_names: Vec<Value> = self
            .dimensions
            .iter()
            .map(|(name, _)| Value::from(*name))
            .collect();
        let metric_defs: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".to_owned(),
            serde_json::json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dimension_names],
                    "Metrics": metric_defs,
                }],
            }),
        );
        for (name, value) in self.properties.iter().chain(&self.dimensions) {
            root.insert((*name).to_owned(), Value::from(value.as_str()));
        }
        for (name, _, value) in &self.metrics {
            root.insert((*name).to_owned(), Value::from(*value));
        }
        Value::Object(root).to_string()
    }
}

/// Where EMF lines go.
pub trait MetricsSink: Send + Sync {
    fn emit(&self, record: &MetricRecord);
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes each record as a raw JSON line on stdout: what Lambda ships to
/// CloudWatch Logs, where EMF is extracted.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn emit(&self, record: &MetricRecord) {
        let mut line = record.to_json_line(now_ms());
        line.push('\n');
        // One write under the lock, so a line is never interleaved with a log line.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// Drops every record: for the local stack, where nobody collects EMF.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscardSink;

impl MetricsSink for DiscardSink {
    fn emit(&self, _record: &MetricRecord) {}
}

/// Keeps rendered lines in memory, for tests and for callers that forward them.
#[derive(Clone, Debug, Default)]
pub struct CaptureSink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl CaptureSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines emitted so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl MetricsSink for CaptureSink {
    fn emit(&self, record: &MetricRecord) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(record.to_json_line(now_ms()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_renders_emf_schema() {
        let line = MetricRecord::new("Tollgate")
            .dimension("Service", "authorizer")
            .dimension("Decision", "allow")
            .metric("Decisions", Unit::Count, 1.0)
            .metric("VerificationTime", Unit::Microseconds, 18.5)
            .property("Issuer", "https://issuer.example")
            .to_json_line(1_700_000_000_000);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Tollgate");
        assert_eq!(
            directive["Dimensions"][0],
            serde_json::json!(["Service", "Decision"])
        );
        assert_eq!(directive["Metrics"][1]["Unit"], "Microseconds");
        assert_eq!(v["Service"], "authorizer");
        assert_eq!(v["Decision"], "allow");
        assert_eq!(v["Decisions"], 1.0);
        assert_eq!(v["Issuer"], "https://issuer.example");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn capture_sink_keeps_lines() {
        let sink = CaptureSink::new();
        sink.emit(&MetricRecord::new("Tollgate").metric("ColdStart", Unit::Count, 1.0));
        assert_eq!(sink.lines().len(), 1);
    }
}
