//! `tollgate metrics`: the `Tollgate` namespace read back with `ListMetrics`
//! (which series exist, hence which reasons) and `GetMetricData` (Sum,
//! SampleCount and Maximum over the whole window; the average is derived),
//! printed as one compact table.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricDataResult, MetricStat};
use aws_sdk_cloudwatch::Client;
use telemetry::NAMESPACE;

/// GetMetricData takes at most 500 queries; three per series.
const SERIES_PER_REQUEST: usize = 166;
const STATS: [&str; 3] = ["Sum", "SampleCount", "Maximum"];

/// Services and metrics in the order the table shows them.
const ORDER: &[(&str, &[&str])] = &[
    (
        "authorizer",
        &[
            "Decisions",
            "DecisionCacheHits",
            "VerificationTime",
            "JwksFetches",
            "JwksFetchFailures",
            "JwksFetchTime",
            "JwksStaleServes",
            "UnknownKidMisses",
            "ColdStart",
            "InitTime",
        ],
    ),
    (
        "issuer",
        &[
            "Logins",
            "TokensIssued",
            "KeyRotations",
            "KeyRevocations",
            "KeyStoreErrors",
        ],
    ),
    ("issuer-rotation", &["RotationSteps"]),
    ("gateway", &["Requests", "Latency"]),
];

/// Timings are shown as average and maximum, with their unit.
fn timing_unit(metric: &str) -> Option<&'static str> {
    match metric {
        "VerificationTime" => Some("µs"),
        "JwksFetchTime" | "InitTime" | "Latency" => Some("ms"),
        _ => None,
    }
}

/// Why the report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Listing the series failed.
    #[error("CloudWatch ListMetrics failed: {0}")]
    List(String),
    /// Reading their statistics failed.
    #[error("CloudWatch GetMetricData failed: {0}")]
    Get(String),
    /// `--since` is not a duration this reads.
    #[error("--since must be a duration such as 90s, 30m, 1h or 2d (at most 15d), got {0:?}")]
    Since(String),
}

/// Parses `--since`: a whole number with `s`, `m`, `h` or `d`.
pub fn parse_since(raw: &str) -> Result<Duration, ReportError> {
    let bad = || ReportError::Since(raw.to_owned());
    let raw_trimmed = raw.trim();
    let split = raw_trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(bad)?;
    let (number, unit) = raw_trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => number,
        "m" => number.checked_mul(60).ok_or_else(bad)?,
        "h" => number.checked_mul(3600).ok_or_else(bad)?,
        "d" => number.checked_mul(86_400).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if seconds == 0 || seconds > 15 * 86_400 {
        return Err(bad());
    }
    Ok(Duration::from_secs(seconds))
}

/// One series' statistics over the window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Sum of the values.
    pub sum: f64,
    /// How many values.
    pub sample_count: f64,
    /// The largest value, if any.
    pub maximum: Option<f64>,
}

impl Stats {
    /// The mean; `None` without values.
    pub fn average(&self) -> Option<f64> {
        (self.sample_count > 0.0).then(|| self.sum / self.sample_count)
    }
}

/// A series: `None` decision and reason is the `[Service]` total.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesId {
    /// The `Service` dimension.
    pub service: String,
    /// The metric name.
    pub metric: String,
    /// The `Decision` dimension.
    pub decision: Option<String>,
    /// The `Reason` dimension.
    pub reason: Option<String>,
}

/// What `tollgate metrics` prints.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The namespace read.
    pub namespace: String,
    /// The window, rounded up to whole minutes.
    pub window: Duration,
    /// Every series with data in the window.
    pub series: BTreeMap<SeriesId, Stats>,
}

fn dimension(metric: &Metric, name: &str) -> Option<String> {
    metric
        .dimensions()
        .iter()
        .find(|d| d.name() == Some(name))
        .and_then(|d| d.value())
        .map(str::to_owned)
}

/// [`read`] with a client for the standard AWS environment
/// (`AWS_ENDPOINT_URL` included).
pub async fn read_from_env(since: Duration) -> Result<Report, ReportError> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    read(&Client::new(&config), NAMESPACE, since).await
}

/// Reads the series of the `[Service]` and `[Service, Decision, Reason]`
/// sets over the last `since` (rounded up to whole minutes).
pub async fn read(
    client: &Client,
    namespace: &str,
    since: Duration,
) -> Result<Report, ReportError> {
    let period = since.as_secs().div_ceil(60).max(1) * 60;
    let end = SystemTime::now() + Duration::from_secs(60);
    let window = (end - Duration::from_secs(period), end);
    let wanted = list_series(client, namespace).await?;
    let mut report = Report {
        namespace: namespace.to_owned(),
        window: Duration::from_secs(period),
        series: BTreeMap::new(),
    };
    for chunk in wanted.chunks(SERIES_PER_REQUEST) {
        let queries = stat_queries(namespace, chunk, period);
        let mut next_token = None;
        loop {
            let page = client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from(window.0))
                .end_time(DateTime::from(window.1))
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| ReportError::Get(DisplayErrorContext(e).to_string()))?;
            for result in page.metric_data_results() {
                report.add(chunk, result);
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
    }
    report.series.retain(|_, stats| stats.sample_count > 0.0);
    Ok(report)
}

/// Every series of the namespace in the `[Service]` and `[Service,
/// Decision, Reason]` sets, once each: the `[Service, Decision]` set adds
/// nothing the table lacks, and a series may be listed more than once
/// (moto lists one entry per datum).
async fn list_series(
    client: &Client,
    namespace: &str,
) -> Result<Vec<(SeriesId, Metric)>, ReportError> {
    let mut wanted = BTreeMap::new();
    let mut next_token = None;
    loop {
        let page = client
            .list_metrics()
            .namespace(namespace)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| ReportError::List(DisplayErrorContext(e).to_string()))?;
        for metric in page.metrics() {
            if !matches!(metric.dimensions().len(), 1 | 3) {
                continue;
            }
            let Some(service) = dimension(metric, "Service") else {
                continue;
            };
            let Some(name) = metric.metric_name() else {
                continue;
            };
            let id = SeriesId {
                service,
                metric: name.to_owned(),
                decision: dimension(metric, "Decision"),
                reason: dimension(metric, "Reason"),
            };
            wanted.insert(id, metric.clone());
        }
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    Ok(wanted.into_iter().collect())
}

/// One query per series and statistic, with ids `m{series}s{stat}`.
fn stat_queries(
    namespace: &str,
    chunk: &[(SeriesId, Metric)],
    period: u64,
) -> Vec<MetricDataQuery> {
    let mut queries = Vec::with_capacity(chunk.len() * STATS.len());
    for (i, (_, listed)) in chunk.iter().enumerate() {
        let metric = Metric::builder()
            .namespace(namespace)
            .set_metric_name(listed.metric_name().map(str::to_owned))
            .set_dimensions(Some(listed.dimensions().to_vec()))
            .build();
        for (s, stat) in STATS.iter().enumerate() {
            let metric_stat = MetricStat::builder()
                .metric(metric.clone())
                .period(period as i32)
                .stat(*stat)
                .build();
            queries.push(
                MetricDataQuery::builder()
                    .id(format!("m{i}s{s}"))
                    .metric_stat(metric_stat)
                    .return_data(true)
                    .build(),
            );
        }
    }
    queries
}

impl Report {
    /// Adds one query's values to the statistics of its series.
    fn add(&mut self, chunk: &[(SeriesId, Metric)], result: &MetricDataResult) {
        let Some((i, s)) = result.id().and_then(parse_query_id) else {
            return;
        };
        let Some((id, _)) = chunk.get(i) else {
            return;
        };
        let stats = self.series.entry(id.clone()).or_default();
        let values = result.values();
        match STATS.get(s) {
            Some(&"Sum") => stats.sum += values.iter().sum::<f64>(),
            Some(&"SampleCount") => stats.sample_count += values.iter().sum::<f64>(),
            Some(_) => {
                for value in values {
                    stats.maximum = Some(stats.maximum.map_or(*value, |m| m.max(*value)));
                }
            }
            None => {}
        }
    }
}

fn parse_query_id(id: &str) -> Option<(usize, usize)> {
    let (series, stat) = id.strip_prefix('m')?.split_once('s')?;
    Some((series.parse().ok()?, stat.parse().ok()?))
}

fn human(seconds: u64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}

/// A timing with about three significant digits.
fn timing(value: f64, unit: &str) -> String {
    match value.abs() {
        v if v < 10.0 => format!("{value:.2}{unit}"),
        v if v < 100.0 => format!("{value:.1}{unit}"),
        _ => format!("{value:.0}{unit}"),
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

impl Report {
    /// The series in table order: known services and metrics first, each
    /// metric's total before its decisions and reasons.
    fn ordered(&self) -> Vec<(&SeriesId, &Stats)> {
        let rank = |id: &SeriesId| {
            let service = ORDER.iter().position(|(s, _)| *s == id.service);
            let metric = service.and_then(|s| ORDER[s].1.iter().position(|m| *m == id.metric));
            (service.unwrap_or(ORDER.len()), metric.unwrap_or(usize::MAX))
        };
        let mut rows: Vec<(&SeriesId, &Stats)> = self.series.iter().collect();
        rows.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
        rows
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Tollgate metrics, last {} (namespace {})",
            human(self.window.as_secs()),
            self.namespace
        )?;
        if self.series.is_empty() {
            return writeln!(f, "no data points in this window");
        }
        writeln!(
            f,
            "{:<16} {:<18} {:<13} {:<20} {:>9} {:>10} {:>10}",
            "SERVICE", "METRIC", "DECISION", "REASON", "SUM", "AVG", "MAX"
        )?;
        for (id, stats) in self.ordered() {
            let (sum, average, maximum) = match timing_unit(&id.metric) {
                Some(unit) => (
                    "-".to_owned(),
                    stats.average().map_or("-".to_owned(), |a| timing(a, unit)),
                    stats.maximum.map_or("-".to_owned(), |m| timing(m, unit)),
                ),
                None => (number(stats.sum), "-".to_owned(), "-".to_owned()),
            };
            writeln!(
                f,
                "{:<16} {:<18} {:<13} {:<20} {:>9} {:>10} {:>10}",
                id.service,
                id.metric,
                id.decision.as_deref().unwrap_or("(all)"),
                id.reason.as_deref().unwrap_or("(all)"),
                sum,
                average,
                maximum
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_seconds_minutes_hours_days() {
        assert_eq!(parse_since("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_since("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_since("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_since("2d").unwrap(), Duration::from_secs(172_800));
        for bad in [
            "",
            "h",
            "1",
            "0h",
            "1w",
            "-1h",
            "16d",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_since(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timings_show_about_three_significant_digits() {
        assert_eq!(timing(0.0459, "ms"), "0.05ms");
        assert_eq!(timing(5.04, "ms"), "5.04ms");
        assert_eq!(timing(35.51, "µs"), "35.5µs");
        assert_eq!(timing(224.4, "µs"), "224µs");
    }

    fn id(service: &str, metric: &str, dr: Option<(&str, &str)>) -> SeriesId {
        SeriesId {
            service: service.to_owned(),
            metric: metric.to_owned(),
            decision: dr.map(|(d, _)| d.to_owned()),
            reason: dr.map(|(_, r)| r.to_owned()),
        }
    }

    #[test]
    fn table_shows_totals_first_and_timings_as_average_and_maximum() {
        let mut report = Report {
            namespace: "Tollgate".to_owned(),
            window: Duration::from_secs(3600),
            series: BTreeMap::new(),
        };
        let count = |n: f64| Stats {
            sum: n,
            sample_count: n,
            maximum: Some(1.0),
        };
        report
            .series
            .insert(id("gateway", "Requests", None), count(4.0));
        report.series.insert(
            id("authorizer", "Decisions", Some(("deny", "missing_scope"))),
            count(1.0),
        );
        report
            .series
            .insert(id("authorizer", "Decisions", None), count(3.0));
        report.series.insert(
            id("authorizer", "VerificationTime", None),
            Stats {
                sum: 60.0,
                sample_count: 3.0,
                maximum: Some(30.0),
            },
        );
        let table = report.to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "Tollgate metrics, last 1h (namespace Tollgate)");
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words(lines[2]),
            ["authorizer", "Decisions", "(all)", "(all)", "3", "-", "-"]
        );
        assert_eq!(
            words(lines[3]),
            [
                "authorizer",
                "Decisions",
                "deny",
                "missing_scope",
                "1",
                "-",
                "-"
            ]
        );
        assert_eq!(
            words(lines[4]),
            [
                "authorizer",
                "VerificationTime",
                "(all)",
                "(all)",
                "-",
                "20.0µs",
                "30.0µs"
            ]
        );
        assert_eq!(words(lines[5])[..2], ["gateway", "Requests"]);
    }
}
