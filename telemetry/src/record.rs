//! The recording API every Tollgate metric goes through, whatever the sink:
//! EMF lines on stdout in Lambda, CloudWatch `PutMetricData` elsewhere.
//!
//! A record is built on the stack from `'static` names and values, so
//! recording costs no allocation; sinks that keep or render it pay for that
//! themselves.

/// The CloudWatch namespace of every Tollgate metric.
pub const NAMESPACE: &str = "Tollgate";

/// The dimension sets every record declares: alarms and dashboards read
/// totals from `[Service]` or `[Service, Decision]` without knowing every
/// reason.
pub const DIMENSION_SETS: [&[&str]; 3] = [
    &["Service"],
    &["Service", "Decision"],
    &["Service", "Decision", "Reason"],
];

/// `Decision` and `Reason` of records that are not a decision and have no
/// outcome or cause to tell.
pub const NONE: &str = "none";

/// Units CloudWatch understands, as EMF and `PutMetricData` spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A count of events.
    Count,
    /// A duration in microseconds.
    Microseconds,
    /// A duration in milliseconds.
    Milliseconds,
    /// A size in bytes.
    Bytes,
}

impl Unit {
    /// The unit as CloudWatch spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Microseconds => "Microseconds",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// One measured value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric {
    /// The metric's name (fixed vocabulary: README's metrics list).
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Its value.
    pub value: f64,
}

impl Metric {
    /// A count.
    pub const fn count(name: &'static str, value: f64) -> Self {
        Self {
            name,
            unit: Unit::Count,
            value,
        }
    }

    /// A value with its unit.
    pub const fn new(name: &'static str, unit: Unit, value: f64) -> Self {
        Self { name, unit, value }
    }
}

/// One record: the three dimension values, its metrics, and properties that
/// are logged with it (EMF) but are never dimensions (an issuer URL, say).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The `Service` dimension.
    pub service: &'static str,
    /// The outcome: `allow`, `ok`, `failed`, … (a fixed vocabulary per service).
    pub decision: &'static str,
    /// Why, or which kind: a refusal reason, a grant, a rotation step, …
    pub reason: &'static str,
    /// The values this record carries.
    pub metrics: &'a [Metric],
    /// Non-dimension properties (searchable in Logs Insights, never billed as metrics).
    pub properties: &'a [(&'static str, &'a str)],
}

impl<'a> Record<'a> {
    /// A record of `metrics` for `service`, `decision` and `reason`.
    pub fn new(
        service: &'static str,
        decision: &'static str,
        reason: &'static str,
        metrics: &'a [Metric],
    ) -> Self {
        Self {
            service,
            decision,
            reason,
            metrics,
            properties: &[],
        }
    }

    /// The same record with `properties`.
    pub fn with_properties(mut self, properties: &'a [(&'static str, &'a str)]) -> Self {
        self.properties = properties;
        self
    }

    /// The dimension values, in `DIMENSION_SETS`' order.
    pub fn dimensions(&self) -> [(&'static str, &'static str); 3] {
        [
            ("Service", self.service),
            ("Decision", self.decision),
            ("Reason", self.reason),
        ]
    }
}

/// Where records go. `emit` runs on a request's path: implementations do no
/// I/O there beyond a buffered line (EMF) or an in-memory update.
pub trait MetricsSink: Send + Sync {
    /// Records one record; must never block or fail a request.
    fn emit(&self, record: &Record<'_>);
}

/// Drops every record: metrics off.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscardSink;

impl MetricsSink for DiscardSink {
    fn emit(&self, _record: &Record<'_>) {}
}
