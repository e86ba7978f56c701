//! A flush window as `PutMetricData` requests: every series under each of
//! the three dimension sets (as EMF declares them), split within the API's
//! limits: 1000 datums per request, 150 values per `Values` array, 30
//! dimensions per datum and 1 MB per request.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StatisticSet};
use telemetry::{Unit, DIMENSION_SETS};

use crate::aggregate::{Series, SeriesKey, Snapshot};

pub const MAX_DATUMS_PER_REQUEST: usize = 1000;
pub const MAX_VALUES_PER_DATUM: usize = 150;
/// Below the 1 MB request limit, with room for the envelope and signing.
pub const MAX_REQUEST_BYTES: usize = 900 * 1024;

/// A datum with a generous estimate of its size in a request (awsQuery
/// encoding, before the SDK's compression).
#[derive(Clone, Debug)]
pub struct SizedDatum {
    pub datum: MetricDatum,
    pub bytes: usize,
}

fn standard_unit(unit: Unit) -> StandardUnit {
    match unit {
        Unit::Count => StandardUnit::Count,
        Unit::Microseconds => StandardUnit::Microseconds,
        Unit::Milliseconds => StandardUnit::Milliseconds,
        Unit::Bytes => StandardUnit::Bytes,
    }
}

/// A series projected onto one dimension set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Projected {
    key: SeriesKey,
    dimensions: usize,
}

/// The datums of a window, stamped `timestamp`: each series under
/// `[Service]`, `[Service, Decision]` and `[Service, Decision, Reason]`.
pub fn datums(snapshot: &Snapshot, timestamp: SystemTime) -> Vec<SizedDatum> {
    let timestamp = DateTime::from(timestamp);
    let mut out = Vec::new();
    for (projection, series) in project(snapshot) {
        series_datums(&projection, &series, timestamp, &mut out);
    }
    out
}

/// Each series merged into its three dimension sets: the coarser sets
/// leave out the reason, then the decision.
fn project(snapshot: &Snapshot) -> HashMap<Projected, Series> {
    let mut projected: HashMap<Projected, Series> = HashMap::new();
    for (key, series) in &snapshot.series {
        for set in DIMENSION_SETS {
            let mut coarse = *key;
            if set.len() < 3 {
                coarse.reason = "";
            }
            if set.len() < 2 {
                coarse.decision = "";
            }
            projected
                .entry(Projected {
                    key: coarse,
                    dimensions: set.len(),
                })
                .or_default()
                .merge(series);
        }
    }
    projected
}

/// One projected series as datums: its values in chunks a datum can hold,
/// then what overflowed as a statistic set. Sizes are upper estimates of
/// the request bytes each adds.
fn series_datums(
    projection: &Projected,
    series: &Series,
    timestamp: DateTime,
    out: &mut Vec<SizedDatum>,
) {
    let key = projection.key;
    let dimensions: Vec<Dimension> = [
        ("Service", key.service),
        ("Decision", key.decision),
        ("Reason", key.reason),
    ][..projection.dimensions]
        .iter()
        .map(|(name, value)| Dimension::builder().name(*name).value(*value).build())
        .collect();
    let envelope = 160
        + key.name.len()
        + dimensions
            .iter()
            .map(|d| 90 + d.value().map_or(0, str::len))
            .sum::<usize>();
    let datum = || {
        MetricDatum::builder()
            .metric_name(key.name)
            .unit(standard_unit(key.unit))
            .timestamp(timestamp)
            .set_dimensions(Some(dimensions.clone()))
    };
    for chunk in series.sorted_values().chunks(MAX_VALUES_PER_DATUM) {
        let (values, counts): (Vec<f64>, Vec<f64>) =
            chunk.iter().map(|(v, c)| (*v, *c as f64)).unzip();
        out.push(SizedDatum {
            bytes: envelope + 100 * values.len(),
            datum: datum()
                .set_values(Some(values))
                .set_counts(Some(counts))
                .build(),
        });
    }
    if let Some(set) = series.overflow {
        out.push(SizedDatum {
            bytes: envelope + 400,
            datum: datum()
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(set.sample_count)
                        .sum(set.sum)
                        .minimum(set.minimum)
                        .maximum(set.maximum)
                        .build(),
                )
                .build(),
        });
    }
}

/// Groups datums into requests within the count and size limits.
pub fn batches(datums: Vec<SizedDatum>) -> Vec<Vec<MetricDatum>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for sized in datums {
        if !current.is_empty()
            && (current.len() == MAX_DATUMS_PER_REQUEST || bytes + sized.bytes > MAX_REQUEST_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += sized.bytes;
        current.push(sized.datum);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregator, Limits};
    use telemetry::{Metric, Record};

    fn window(records: &[(&'static str, &'static str, f64)]) -> Snapshot {
        let mut aggregator = Aggregator::new(Limits::default());
        for (decision, reason, millis) in records {
            aggregator.record(&Record::new(
                "gateway",
                decision,
                reason,
                &[
                    Metric::count("Requests", 1.0),
                    Metric::new("Latency", Unit::Milliseconds, *millis),
                ],
            ));
        }
        aggregator.take()
    }

    fn dims(datum: &MetricDatum) -> Vec<(String, String)> {
        datum
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap().to_owned(), d.value().unwrap().to_owned()))
            .collect()
    }

    fn total(datums: &[SizedDatum], name: &str, dimensions: &[(&str, &str)]) -> f64 {
        datums
            .iter()
            .map(|s| &s.datum)
            .filter(|d| d.metric_name() == Some(name))
            .filter(|d| {
                dims(d)
                    == dimensions
                        .iter()
                        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                        .collect::<Vec<_>>()
            })
            .map(|d| {
                d.values()
                    .iter()
                    .zip(d.counts())
                    .map(|(v, c)| v * c)
                    .sum::<f64>()
                    + d.statistic_values().and_then(|s| s.sum()).unwrap_or(0.0)
            })
            .sum()
    }

    #[test]
    fn every_series_is_sent_under_the_three_dimension_sets() {
        let snapshot = window(&[
            ("allow", "200", 3.0),
            ("allow", "200", 3.0),
            ("allow", "201", 4.0),
            ("deny", "403", 1.0),
            ("unauthorized", "401", 1.0),
        ]);
        let datums = datums(&snapshot, SystemTime::now());
        assert_eq!(total(&datums, "Requests", &[("Service", "gateway")]), 5.0);
        assert_eq!(
            total(
                &datums,
                "Requests",
                &[("Service", "gateway"), ("Decision", "allow")]
            ),
            3.0
        );
        assert_eq!(
            total(
                &datums,
                "Requests",
                &[
                    ("Service", "gateway"),
                    ("Decision", "allow"),
                    ("Reason", "201")
                ]
            ),
            1.0
        );
        assert_eq!(total(&datums, "Latency", &[("Service", "gateway")]), 12.0);
        // Requests and Latency: 1 + 3 + 4 series each.
        assert_eq!(datums.len(), 16);
        for d in &datums {
            assert!(d.datum.dimensions().len() <= 30);
            assert!(d.datum.values().len() <= MAX_VALUES_PER_DATUM);
            assert_eq!(d.datum.values().len(), d.datum.counts().len());
        }
    }

    #[test]
    fn many_distinct_values_are_split_at_150_per_datum() {
        let records: Vec<(&str, &str, f64)> = (0..400)
            .map(|i| ("allow", "200", 1.0 + f64::from(i)))
            .collect();
        let datums = datums(&window(&records), SystemTime::now());
        let latency_total: Vec<&MetricDatum> = datums
            .iter()
            .map(|s| &s.datum)
            .filter(|d| d.metric_name() == Some("Latency") && d.dimensions().len() == 1)
            .collect();
        assert_eq!(latency_total.len(), 3, "150 + 150 + 100 values");
        assert!(latency_total.iter().all(|d| d.values().len() <= 150));
        let expected: f64 = (0..400).map(|i| 1.0 + f64::from(i)).sum();
        assert_eq!(
            total(&datums, "Latency", &[("Service", "gateway")]),
            expected
        );
    }

    #[test]
    fn requests_respect_the_count_and_size_limits() {
        let small = |n: usize| -> Vec<SizedDatum> {
            (0..n)
                .map(|_| SizedDatum {
                    datum: MetricDatum::builder().metric_name("X").value(1.0).build(),
                    bytes: 300,
                })
                .collect()
        };
        let sizes: Vec<usize> = batches(small(2500)).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
        let big: Vec<SizedDatum> = (0..100)
            .map(|_| SizedDatum {
                datum: MetricDatum::builder().metric_name("X").value(1.0).build(),
                bytes: 100 * 150 + 400,
            })
            .collect();
        let batches = batches(big);
        assert!(batches.len() > 1);
        for batch in &batches {
            assert!(batch.len() * (100 * 150 + 400) <= MAX_REQUEST_BYTES);
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
    }
}
