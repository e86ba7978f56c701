//! Recording runs on every request: once a series and its values are known,
//! recording into the CloudWatch aggregate (and building a record at all)
//! allocates nothing. Counted per thread by a global allocator (the test
//! harness allocates on its own threads), so no clock is read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use telemetry::{DiscardSink, Metric, MetricsSink, Record, Unit};
use telemetry_cloudwatch::{Aggregator, Limits};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn decision(verify_micros: f64) -> [Metric; 3] {
    [
        Metric::count("Decisions", 1.0),
        Metric::new("VerificationTime", Unit::Microseconds, verify_micros),
        Metric::count("DecisionCacheHits", 0.0),
    ]
}

#[test]
fn recording_a_known_series_allocates_nothing() {
    let mut aggregator = Aggregator::new(Limits::default());
    let discard = DiscardSink;
    // Warm-up: the series and the values exist.
    for micros in [17.5, 18.0, 21.25] {
        aggregator.record(&Record::new("authorizer", "allow", "ok", &decision(micros)));
    }
    let before = allocations();
    for i in 0..10_000 {
        let micros = [17.5, 18.0, 21.25][i % 3];
        let metrics = decision(micros);
        let record = Record::new("authorizer", "allow", "ok", &metrics);
        discard.emit(&record);
        aggregator.record(&record);
    }
    let allocations = allocations() - before;
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in 10 000 records"
    );
    assert_eq!(aggregator.size(), (3, 5));
}
