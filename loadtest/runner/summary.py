"""What a k6 run found, as summary.json's row (the table), details.json's
entry (what the table leaves out) and the printed table."""

import re


def metric(data, name, stat, default=0):
    return data.get("metrics", {}).get(name, {}).get("values", {}).get(stat, default)


def measured(data, name):
    """`name` of the measured requests: its `measured:yes` sub-metric, or
    the metric itself in a script that measures every request and keeps no
    sub-metrics (bare.js)."""
    tagged = f"{name}{{measured:yes}}"
    return tagged if tagged in data.get("metrics", {}) else name


def row(authorizer, scenario, data):
    duration = measured(data, "http_req_duration")
    return {
        "authorizer": authorizer,
        "scenario": scenario,
        "requests": int(metric(data, measured(data, "http_reqs"), "count")),
        "failed": int(metric(data, measured(data, "http_req_failed"), "passes")),
        "p50_ms": round(metric(data, duration, "med"), 3),
        "p95_ms": round(metric(data, duration, "p(95)"), 3),
        "p99_ms": round(metric(data, duration, "p(99)"), 3),
    }


def details(authorizer, scenario, data):
    """What the table leaves out: thresholds, first use vs repeats, rotations,
    revocation timings, DPoP replays."""
    extra = {
        "authorizer": authorizer,
        "scenario": scenario,
        "k6_exit_code": data["k6_exit_code"],
        "load_average_after": data.get("load_average_after"),
        "all_requests_failed_rate": metric(data, "http_req_failed", "rate"),
        "checks_rate": metric(data, "checks", "rate", 1),
        "dropped_iterations": int(metric(data, "dropped_iterations", "count")),
        "percentiles_ms": {
            label: round(metric(data, measured(data, "http_req_duration"), stat), 3)
            for label, stat in (("p50", "med"), ("p90", "p(90)"), ("p95", "p(95)"), ("p99", "p(99)"), ("max", "max"))
        },
        "thresholds_failed": sorted(
            name
            for name, m in data.get("metrics", {}).items()
            for threshold in (m.get("thresholds") or {}).values()
            if not threshold.get("ok", True)
        ),
    }
    for use in ("first", "repeat"):
        name = f"http_req_duration{{use:{use}}}"
        if name in data.get("metrics", {}):
            extra[f"{use}_use"] = {
                "requests": int(metric(data, name, "count")),
                "p50_ms": round(metric(data, name, "med"), 3),
                "p99_ms": round(metric(data, name, "p(99)"), 3),
            }
    rotations = "http_reqs{name:POST /admin/keys/rotate}"
    if rotations in data.get("metrics", {}):
        extra["rotations"] = int(metric(data, rotations, "count"))
        extra["rotations_at_s"] = [round(v / 1000, 3) for v in tagged_values(data, "rotation_at_ms", "rotation")]
    if "revoked_token_accepted_ms" in data.get("metrics", {}):
        extra["revocation"] = {
            "tokens_revoked": int(metric(data, "http_reqs{name:POST /revoke}", "count")),
            "enforced": data.get("revocation_enforced", True),
            "bound_ms": data.get("revocation_bound_ms"),
            "revoke_at_s": data.get("revoke_at_s"),
            "revocation_request_ms": round(metric(data, "revocation_request_ms", "max"), 3),
            # The last moment a revoked token was still let through (0: never).
            "accepted_until_ms": round(metric(data, "revoked_token_accepted_ms", "max"), 3),
            "first_refusal_ms": round(metric(data, "revoked_token_refused_ms", "min"), 3) if metric(data, "revoked_token_refused_ms", "count") else None,
            "refusals": int(metric(data, "revoked_token_refused_ms", "count")),
            "accepted_past_bound": int(metric(data, "revoked_token_accepted_past_bound", "count")),
        }
    if "replays_sent" in data.get("metrics", {}):
        extra["dpop_replays"] = {
            outcome: int(metric(data, f"replays_{outcome}", "count")) for outcome in ("sent", "refused", "accepted")
        }
    timeline = tagged_trends(data, "http_req_duration", "second")
    if timeline:
        extra["timeline"] = timeline
    cold = tagged_values(data, "http_req_duration", "iteration")
    if cold:
        extra["cold_requests_ms"] = [round(v, 3) for v in cold]
    return extra


def tagged_trends(data, name, tag):
    """Per value of `tag` (0, 1, ...: the scenarios' perTagThresholds), the
    sub-metric's count and percentiles, in tag order; values no sample had
    are left out."""
    pattern = re.compile(rf"^{re.escape(name)}\{{{re.escape(tag)}:(\d+)\}}$")
    found = []
    for key, entry in data.get("metrics", {}).items():
        match = pattern.match(key)
        values = entry.get("values", {})
        if match and values.get("count"):
            found.append({
                tag: int(match.group(1)),
                "count": int(values["count"]),
                **{label: round(values.get(stat, 0), 3) for label, stat in TIMELINE_STATS},
            })
    return sorted(found, key=lambda entry: entry[tag])


TIMELINE_STATS = (("p50_ms", "med"), ("p90_ms", "p(90)"), ("p95_ms", "p(95)"), ("p99_ms", "p(99)"), ("max_ms", "max"))


def tagged_values(data, name, tag):
    """The sample of each value of `tag` (tags that mark one sample each:
    a cold request, a rotation), in tag order."""
    return [entry["max_ms"] for entry in tagged_trends(data, name, tag)]


def table(rows):
    header = f"{'authorizer':<10} {'scenario':<9} {'requests':>8} {'failed':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['authorizer']:<10} {r['scenario']:<9} {r['requests']:>8} {r['failed']:>6} "
            f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f}"
        )
    return "\n".join(lines)
