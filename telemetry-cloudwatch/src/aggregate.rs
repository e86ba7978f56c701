//! In-memory aggregation between two flushes: per series (metric, unit and
//! the three dimension values), how often each value was seen.
//!
//! Memory is bounded by [`Limits`]: past `max_series` series, records of a
//! new series are dropped (and counted); past `max_distinct_values` distinct
//! values in all, further values of a series go into its statistic set,
//! which stays exact for Sum, SampleCount, Minimum and Maximum.

use std::collections::HashMap;
use std::time::SystemTime;

use telemetry::{Record, Unit};

/// How much one flush window may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Series per window; records of further series are dropped and counted.
    pub max_series: usize,
    /// Distinct values per window, in all series; further values go into
    /// their series' statistic set.
    pub max_distinct_values: usize,
}

impl Default for Limits {
    /// A few megabytes at most; Tollgate itself has a few hundred series.
    fn default() -> Self {
        Self {
            max_series: 2_000,
            max_distinct_values: 100_000,
        }
    }
}

/// One time series: a metric under one combination of dimension values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    pub name: &'static str,
    pub unit: Unit,
    pub service: &'static str,
    pub decision: &'static str,
    pub reason: &'static str,
}

/// Sum, count, minimum and maximum: CloudWatch's `StatisticValues`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

impl StatisticSet {
    pub fn of(value: f64, count: u64) -> Self {
        Self {
            sample_count: count as f64,
            sum: value * count as f64,
            minimum: value,
            maximum: value,
        }
    }

    pub fn merge(&mut self, other: &StatisticSet) {
        self.sample_count += other.sample_count;
        self.sum += other.sum;
        self.minimum = self.minimum.min(other.minimum);
        self.maximum = self.maximum.max(other.maximum);
    }
}

/// Values seen (by their bits) with their counts, and what did not fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub values: HashMap<u64, u64>,
    pub overflow: Option<StatisticSet>,
}

impl Series {
    fn add_overflow(&mut self, set: &StatisticSet) {
        match &mut self.overflow {
            Some(existing) => existing.merge(set),
            None => self.overflow = Some(*set),
        }
    }

    /// Adds `other` into `self` (used to build the coarser dimension sets).
    pub fn merge(&mut self, other: &Series) {
        for (bits, count) in &other.values {
            *self.values.entry(*bits).or_default() += count;
        }
        if let Some(set) = &other.overflow {
            self.add_overflow(set);
        }
    }

    /// The values, ascending, with their counts.
    pub fn sorted_values(&self) -> Vec<(f64, u64)> {
        let mut values: Vec<(f64, u64)> = self
            .values
            .iter()
            .map(|(bits, count)| (f64::from_bits(*bits), *count))
            .collect();
        values.sort_by(|a, b| a.0.total_cmp(&b.0));
        values
    }
}

/// What one flush window collected.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub series: HashMap<SeriesKey, Series>,
    /// When the first value of the window was recorded.
    pub opened_at: Option<SystemTime>,
}

/// The aggregation of the current window.
#[derive(Debug, Default)]
pub struct Aggregator {
    limits: Limits,
    current: Snapshot,
    distinct: usize,
    dropped: u64,
}

/// Timings are kept to three significant digits (at most 0.5% off), so
/// that a window's latencies fit in a few hundred distinct values.
fn quantize(value: f64, unit: Unit) -> f64 {
    if unit == Unit::Count || value == 0.0 {
        return value;
    }
    let exponent = value.abs().log10().floor() as i32 - 2;
    if exponent >= 0 {
        let scale = 10f64.powi(exponent);
        (value / scale).round() * scale
    } else {
        let scale = 10f64.powi(-exponent);
        (value * scale).round() / scale
    }
}

impl Aggregator {
    /// An empty window bounded by `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Adds every finite metric of `record`.
    pub fn record(&mut self, record: &Record<'_>) {
        for metric in record.metrics {
            if !metric.value.is_finite() {
                continue;
            }
            let key = SeriesKey {
                name: metric.name,
                unit: metric.unit,
                service: record.service,
                decision: record.decision,
                reason: record.reason,
            };
            self.add(key, quantize(metric.value, metric.unit));
        }
    }

    fn add(&mut self, key: SeriesKey, value: f64) {
        if !self.current.series.contains_key(&key)
            && self.current.series.len() >= self.limits.max_series
        {
            self.dropped += 1;
            return;
        }
        self.current.opened_at.get_or_insert_with(SystemTime::now);
        let room = self.distinct < self.limits.max_distinct_values;
        let series = self.current.series.entry(key).or_default();
        let bits = value.to_bits();
        if let Some(count) = series.values.get_mut(&bits) {
            *count += 1;
        } else if room {
            series.values.insert(bits, 1);
            self.distinct += 1;
        } else {
            series.add_overflow(&StatisticSet::of(value, 1));
        }
    }

    /// Takes the window, leaving an empty one.
    pub fn take(&mut self) -> Snapshot {
        self.distinct = 0;
        std::mem::take(&mut self.current)
    }

    /// Values dropped since the start because `max_series` was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Series and distinct values held now.
    pub fn size(&self) -> (usize, usize) {
        (self.current.series.len(), self.distinct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry::Metric;

    fn decision(aggregator: &mut Aggregator, decision: &'static str, micros: f64) {
        aggregator.record(&Record::new(
            "authorizer",
            decision,
            "ok",
            &[
                Metric::count("Decisions", 1.0),
                Metric::new("VerificationTime", Unit::Microseconds, micros),
            ],
        ));
    }

    #[test]
    fn counts_values_per_series() {
        let mut aggregator = Aggregator::new(Limits::default());
        for _ in 0..5 {
            decision(&mut aggregator, "allow", 17.5);
        }
        decision(&mut aggregator, "deny", 20.0);
        let snapshot = aggregator.take();
        let key = |name, decision| SeriesKey {
            name,
            unit: if name == "Decisions" {
                Unit::Count
            } else {
                Unit::Microseconds
            },
            service: "authorizer",
            decision,
            reason: "ok",
        };
        assert_eq!(
            snapshot.series[&key("Decisions", "allow")].sorted_values(),
            vec![(1.0, 5)]
        );
        assert_eq!(
            snapshot.series[&key("VerificationTime", "allow")].sorted_values(),
            vec![(17.5, 5)]
        );
        assert_eq!(snapshot.series.len(), 4);
        assert!(snapshot.opened_at.is_some());
        assert_eq!(aggregator.size(), (0, 0), "take leaves an empty window");
    }

    #[test]
    fn timings_keep_three_significant_digits() {
        assert_eq!(quantize(17.5349, Unit::Microseconds), 17.5);
        assert_eq!(quantize(123_456.0, Unit::Milliseconds), 123_000.0);
        assert_eq!(quantize(0.012345, Unit::Milliseconds), 0.0123);
        assert_eq!(quantize(3.0, Unit::Count), 3.0);
        assert_eq!(quantize(12.3456, Unit::Count), 12.3456);
    }

    #[test]
    fn memory_is_bounded_and_overflow_stays_exact() {
        let mut aggregator = Aggregator::new(Limits {
            max_series: 2,
            max_distinct_values: 50,
        });
        let mut exact_sum = 0.0;
        for i in 0..100_000u32 {
            let micros = 100.0 + f64::from(i % 900);
            exact_sum += micros;
            decision(&mut aggregator, "allow", micros);
        }
        // A third series does not fit.
        decision(&mut aggregator, "deny", 1.0);
        decision(&mut aggregator, "deny", 1.0);
        let (series, distinct) = aggregator.size();
        assert!(
            series <= 4 && distinct <= 50,
            "{series} series, {distinct} values"
        );
        assert_eq!(aggregator.dropped(), 4, "two records of two metrics");
        let snapshot = aggregator.take();
        let timing = snapshot
            .series
            .iter()
            .find(|(k, _)| k.name == "VerificationTime")
            .map(|(_, s)| s)
            .unwrap();
        let kept: f64 = timing
            .sorted_values()
            .iter()
            .map(|(v, c)| v * *c as f64)
            .sum();
        let overflow = timing.overflow.unwrap();
        assert_eq!(kept + overflow.sum, exact_sum);
        let samples: u64 = timing.values.values().sum();
        assert_eq!(samples as f64 + overflow.sample_count, 100_000.0);
        assert_eq!(overflow.maximum, 999.0);
    }

    #[test]
    fn non_finite_values_are_ignored() {
        let mut aggregator = Aggregator::new(Limits::default());
        aggregator.record(&Record::new(
            "gateway",
            "allow",
            "200",
            &[Metric::new("Latency", Unit::Milliseconds, f64::INFINITY)],
        ));
        assert_eq!(aggregator.size(), (0, 0));
    }
}
