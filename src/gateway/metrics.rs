//! The gateway's metrics (`Service=gateway`, local stack only): `Requests`
//! and `Latency` per answer. `Decision` says how the gateway treated the
//! request, `Reason` is the HTTP status it answered.

use telemetry::{Metric, MetricsSink, Record, Unit};

/// `allow` (authorized and forwarded, whatever the backend answered),
/// `deny` (the policy refused: 403), `unauthorized` (401), `public` (an open
/// route: no authorizer needed), `error` (no such route, or the gateway
/// failed).
pub(super) fn decision(public: bool, authorized: bool, status: u16) -> &'static str {
    if authorized {
        "allow"
    } else if public {
        "public"
    } else {
        match status {
            401 => "unauthorized",
            403 => "deny",
            _ => "error",
        }
    }
}

/// The status as a `Reason` value: a `'static` string, so recording stays
/// allocation-free; statuses the stack never answers fall into their class.
pub(super) fn status_reason(status: u16) -> &'static str {
    const KNOWN: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (412, "412"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    match KNOWN.iter().find(|(code, _)| *code == status) {
        Some((_, reason)) => reason,
        None => match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        },
    }
}

/// One answered request, treated as `decision` says.
pub(super) fn record(sink: &dyn MetricsSink, decision: &'static str, status: u16, millis: f64) {
    let metrics = [
        Metric::count("Requests", 1.0),
        Metric::new("Latency", Unit::Milliseconds, millis),
    ];
    sink.emit(&Record::new(
        "gateway",
        decision,
        status_reason(status),
        &metrics,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_gateway_treatment() {
        assert_eq!(decision(false, true, 200), "allow");
        assert_eq!(
            decision(false, true, 403),
            "allow",
            "the backend refused, not the gateway"
        );
        assert_eq!(decision(false, false, 401), "unauthorized");
        assert_eq!(decision(false, false, 403), "deny");
        assert_eq!(decision(false, false, 500), "error");
        assert_eq!(decision(false, false, 404), "error");
        assert_eq!(decision(true, false, 401), "public");
        assert_eq!(decision(true, false, 200), "public");
    }

    #[test]
    fn statuses_are_a_small_vocabulary() {
        assert_eq!(status_reason(412), "412");
        assert_eq!(status_reason(418), "4xx");
        assert_eq!(status_reason(599), "5xx");
        assert_eq!(status_reason(0), "5xx");
    }
}
