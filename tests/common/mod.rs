//! Helpers of the metrics tests: reading CloudWatch back with our own
//! client, and finding a row of `tollgate metrics`' table.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

/// Sum, SampleCount and Maximum of one metric under exactly `dimensions`,
/// from a minute before `since` until now.
pub async fn statistics(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    name: &str,
    dimensions: &[(&str, &str)],
    since: SystemTime,
) -> (f64, f64, f64) {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                .collect(),
        ))
        .build();
    let queries = ["Sum", "SampleCount", "Maximum"].map(|stat| {
        MetricDataQuery::builder()
            .id(stat.to_ascii_lowercase())
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.clone())
                    .period(3600)
                    .stat(stat)
                    .build(),
            )
            .build()
    });
    let answer = client
        .get_metric_data()
        .set_metric_data_queries(Some(queries.to_vec()))
        .start_time(DateTime::from(since - Duration::from_secs(60)))
        .end_time(DateTime::from(SystemTime::now() + Duration::from_secs(60)))
        .send()
        .await
        .unwrap();
    let value = |id: &str| -> f64 {
        answer
            .metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
            .map(|r| r.values().iter().sum())
            .unwrap_or(0.0)
    };
    (value("sum"), value("samplecount"), value("maximum"))
}

/// `table` has each of `rows` (cells separated by whitespace), whatever the
/// column widths.
pub fn assert_rows(table: &str, rows: &[&str]) {
    for row in rows {
        assert!(
            table
                .lines()
                .any(|line| line.split_whitespace().eq(row.split_whitespace())),
            "no row {row:?} in\n{table}"
        );
    }
}
