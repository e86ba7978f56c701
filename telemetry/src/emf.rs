//! CloudWatch Embedded Metric Format: records rendered as one JSON line each.
//!
//! Format reference: the `_aws` member names the namespace, the dimension sets
//! and each metric's unit; dimension values and metric values are top-level
//! members of the same object.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::record::{MetricsSink, Record, DIMENSION_SETS, NAMESPACE};

/// Renders `record` as one EMF line (no trailing newline), stamped with
/// `timestamp_ms`. Non-finite values are left out: CloudWatch rejects them.
pub fn to_json_line(record: &Record<'_>, timestamp_ms: u64) -> String {
    let mut line = String::with_capacity(256 + 64 * record.metrics.len());
    let metrics = || record.metrics.iter().filter(|m| m.value.is_finite());
    let _ = write!(
        line,
        r#"{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":"{NAMESPACE}","Dimensions":["#
    );
    for (i, set) in DIMENSION_SETS.iter().enumerate() {
        line.push_str(if i == 0 { "[" } else { ",[" });
        for (j, name) in set.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            push_json_str(&mut line, name);
        }
        line.push(']');
    }
    line.push_str(r#"],"Metrics":["#);
    for (i, metric) in metrics().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(r#"{"Name":"#);
        push_json_str(&mut line, metric.name);
        let _ = write!(line, r#","Unit":"{}"}}"#, metric.unit.as_str());
    }
    line.push_str("]}]}");
    let dimensions = record.dimensions();
    let strings = dimensions
        .iter()
        .copied()
        .chain(record.properties.iter().copied());
    for (name, value) in strings {
        line.push(',');
        push_json_str(&mut line, name);
        line.push(':');
        push_json_str(&mut line, value);
    }
    for metric in metrics() {
        line.push(',');
        push_json_str(&mut line, metric.name);
        let _ = write!(line, ":{}", metric.value);
    }
    line.push('}');
    line
}

/// Appends `value` as a JSON string.
fn push_json_str(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    fn emit(&self, record: &Record<'_>) {
        let mut line = to_json_line(record, now_ms());
        line.push('\n');
        // One write under the lock, so a line is never interleaved with a log line.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// Keeps rendered lines in memory, for tests and for callers that forward them.
#[derive(Clone, Debug, Default)]
pub struct CaptureSink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl CaptureSink {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines emitted so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl MetricsSink for CaptureSink {
    fn emit(&self, record: &Record<'_>) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(to_json_line(record, now_ms()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Metric, Unit};
    use serde_json::{json, Value};

    fn decision_line() -> Value {
        let metrics = [
            Metric::count("Decisions", 1.0),
            Metric::new("VerificationTime", Unit::Microseconds, 18.5),
        ];
        let line = to_json_line(
            &Record::new("authorizer", "deny", "missing_scope", &metrics)
                .with_properties(&[("Issuer", "https://issuer.example/\"q\"")]),
            1_700_000_000_000,
        );
        assert!(!line.contains('\n'));
        serde_json::from_str(&line).expect("an EMF line is one JSON object")
    }

    #[test]
    fn declares_the_three_dimension_sets() {
        let v = decision_line();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Tollgate");
        assert_eq!(
            directive["Dimensions"],
            json!([
                ["Service"],
                ["Service", "Decision"],
                ["Service", "Decision", "Reason"]
            ])
        );
    }

    #[test]
    fn carries_every_dimension_value_metric_and_property() {
        let v = decision_line();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Decisions", "Unit": "Count"}, {"Name": "VerificationTime", "Unit": "Microseconds"}])
        );
        // Every name a dimension set uses has a string value at the top level.
        for set in directive["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(v[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        assert_eq!(v["Service"], "authorizer");
        assert_eq!(v["Decision"], "deny");
        assert_eq!(v["Reason"], "missing_scope");
        assert_eq!(v["Decisions"], 1.0);
        assert_eq!(v["VerificationTime"], 18.5);
        assert_eq!(v["Issuer"], "https://issuer.example/\"q\"");
    }

    #[test]
    fn leaves_out_values_cloudwatch_would_reject() {
        let metrics = [
            Metric::count("Good", 2.0),
            Metric::new("Bad", Unit::Milliseconds, f64::NAN),
        ];
        let line = to_json_line(&Record::new("gateway", "none", "none", &metrics), 1);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "Good", "Unit": "Count"}])
        );
        assert!(v.get("Bad").is_none());
    }

    #[test]
    fn capture_sink_keeps_lines() {
        let sink = CaptureSink::new();
        sink.emit(&Record::new(
            "authorizer",
            "none",
            "none",
            &[Metric::count("ColdStart", 1.0)],
        ));
        assert_eq!(sink.lines().len(), 1);
    }
}
