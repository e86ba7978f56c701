//! The gateway's metrics (`Service=gateway`, local stack only): `Requests`
//! and `Latency` per answer. `Decision` says how the gateway treated the
//! request, `Reason` is the HTTP status it answered.

use telemetry::{Metric, MetricsSink, Record, Unit};

/// Routes the gateway forwards without an authorizer, as API Gateway does
/// for the unauthenticated `POST /token`, `POST /revoke` (RFC 7009: the
/// token or the client authenticates itself), `GET /.well-known/*` and the
/// status lists `GET /statuslists*`.
pub fn is_public(path: &str) -> bool {
    path == "/token"
        || path == "/revoke"
        || path == "/statuslists"
        || path.starts_with("/statuslists/")
        || path.starts_with("/.well-known/")
}

/// `allow` (authorized and forwarded, whatever the backend answered),
/// `deny` (the policy refused: 403), `unauthorized` (401), `public` (no
/// authorizer needed), `error` (no such route, or the gateway failed).
pub fn decision(path: &str, authorized: bool, status: u16) -> &'static str {
    if authorized {
        "allow"
    } else if is_public(path) || path == "/healthz" {
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
pub fn status_reason(status: u16) -> &'static str {
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

/// One answered request.
pub fn record(sink: &dyn MetricsSink, path: &str, authorized: bool, status: u16, millis: f64) {
    let metrics = [
        Metric::count("Requests", 1.0),
        Metric::new("Latency", Unit::Milliseconds, millis),
    ];
    sink.emit(&Record::new(
        "gateway",
        decision(path, authorized, status),
        status_reason(status),
        &metrics,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_gateway_treatment() {
        assert_eq!(decision("/books", true, 200), "allow");
        assert_eq!(
            decision("/books/1", true, 403),
            "allow",
            "the backend refused, not the gateway"
        );
        assert_eq!(decision("/books", false, 401), "unauthorized");
        assert_eq!(decision("/admin/keys", false, 403), "deny");
        assert_eq!(decision("/books", false, 500), "error");
        assert_eq!(decision("/nowhere", false, 404), "error");
        assert_eq!(decision("/token", false, 401), "public");
        assert_eq!(decision("/.well-known/jwks.json", false, 200), "public");
        assert_eq!(decision("/healthz", false, 200), "public");
    }

    #[test]
    fn statuses_are_a_small_vocabulary() {
        assert_eq!(status_reason(412), "412");
        assert_eq!(status_reason(418), "4xx");
        assert_eq!(status_reason(599), "5xx");
        assert_eq!(status_reason(0), "5xx");
    }
}
