"""loadtest/out/report.html: what a run found, as charts first.

Reads the runner's summary.json and details.json (so a report can be
rendered again from a finished run: `python loadtest/report.py [out_dir]`)
and writes one self-contained page: a few sentences comparing the two
authorizers, SVG charts (every cold request; percentiles and latency over
time for the warm, rotation, revocation and dpop scenarios, rotations and
the revocation marked), a table of requests, failures and dropped
iterations, how soon revoked tokens were refused, what became of replayed
DPoP proofs, links to k6's own dashboards, and the raw details behind a
disclosure.
"""

import html
import json
import sys
from pathlib import Path

import charts

COLORS = {"tollgate": "#0072B2", "pyjwt": "#E69F00"}
OTHER_COLORS = ("#009E73", "#CC79A7", "#56B4E9", "#D55E00")
NAMES = {"tollgate": "Tollgate", "pyjwt": "PyJWT"}
# In sentences.
LONG_NAMES = {"tollgate": "Tollgate", "pyjwt": "the PyJWT reference"}
STEADY = ("warm", "rotation", "revocation", "dpop")
# Chart titles; other scenarios' names are capitalized.
TITLES = {"dpop": "DPoP"}
PERCENTILES = ("p50", "p90", "p95", "p99", "max")


def color(authorizer, order):
    return COLORS.get(authorizer) or OTHER_COLORS[order.index(authorizer) % len(OTHER_COLORS)]


def name(authorizer):
    return NAMES.get(authorizer, authorizer)


def long_name(authorizer):
    return LONG_NAMES.get(authorizer, authorizer)


def title(scenario):
    return TITLES.get(scenario, scenario.capitalize())


def runs_of(details, scenario):
    return [run for run in details.get("runs", []) if run["scenario"] == scenario]


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def cold_chart(details, order):
    runs = [run for run in runs_of(details, "cold") if run.get("cold_requests_ms")]
    if not runs:
        return None
    series = [
        (f"{name(run['authorizer'])} (median {charts.label(median(run['cold_requests_ms']))} ms)", color(run["authorizer"], order), run["cold_requests_ms"])
        for run in runs
    ]
    return charts.dot_chart("chart-cold", "Cold start: every cold request", series, "request", "ms")


def network_runs(details):
    return [run for run in runs_of(details, "cold_network") if run.get("requests")]


def network_series_name(run):
    return f"{name(run['authorizer'])}{' + snapshot' if run.get('snapshot') else ''}"


def cold_network_chart(details, order):
    """Cold p50 (solid) and p95 (dashed) against the added RTT, over https."""
    runs = network_runs(details)
    if not runs:
        return None
    series = []
    for key in dict.fromkeys((run["authorizer"], bool(run.get("snapshot"))) for run in runs):
        mine = sorted((r for r in runs if (r["authorizer"], bool(r.get("snapshot"))) == key), key=lambda r: r["latency_ms"])
        base = color(key[0], order) if not key[1] else "#009E73"
        label = network_series_name(mine[0])
        series.append((f"{label} p50", base, [(r["latency_ms"], r["p50_ms"]) for r in mine], False))
        series.append((f"{label} p95", base, [(r["latency_ms"], r["p95_ms"]) for r in mine], True))
    return charts.line_chart(
        "chart-cold-network", "Cold start over https against added round-trip time", series, "added RTT, ms", "ms"
    )


SPLIT_PHASES = (
    ("init_ms", "init (no fetch)", "#56B4E9"),
    ("jwks_dns_ms", "JWKS: DNS", "#CC79A7"),
    ("jwks_connect_tls_ms", "JWKS: TCP + TLS", "#D55E00"),
    ("jwks_requests_ms", "JWKS: requests", "#E69F00"),
    ("first_verification_ms", "first verification", "#009E73"),
)


def cold_split_chart(details):
    """Where Tollgate's cold start goes, per added RTT, with and without a
    snapshot: the medians of its EMF timings; the rest of the cold request
    (process start, the Runtime API, the gateway) is p50 minus these."""
    runs = sorted((r for r in network_runs(details) if r.get("split")), key=lambda r: (r["latency_ms"], bool(r.get("snapshot"))))
    if not runs:
        return None
    groups = [f"{r['latency_ms']} ms{' snap' if r.get('snapshot') else ''}" for r in runs]
    series = [(label, hue, [r["split"].get(key) or 0.0 for r in runs]) for key, label, hue in SPLIT_PHASES]
    rest = [max(r["p50_ms"] - sum(r["split"].get(k) or 0.0 for k, _, _ in SPLIT_PHASES), 0.0) for r in runs]
    series.append(("process start, Runtime API, gateway", "#999999", rest))
    return charts.bar_chart("chart-cold-split", "Tollgate's cold start, split (medians, ms)", groups, series, "ms")


def percentile_chart(details, scenario, order):
    runs = [run for run in runs_of(details, scenario) if run.get("percentiles_ms")]
    if not runs:
        return None
    series = [(name(run["authorizer"]), color(run["authorizer"], order), [run["percentiles_ms"][p] for p in PERCENTILES]) for run in runs]
    return charts.bar_chart(f"chart-{scenario}-percentiles", f"{title(scenario)}: latency percentiles", list(PERCENTILES), series, "ms")


def timeline_chart(details, scenario, order):
    runs = [run for run in runs_of(details, scenario) if run.get("timeline")]
    if not runs:
        return None
    series = []
    for run in runs:
        points = run["timeline"]
        series.append((f"{name(run['authorizer'])} p99", color(run["authorizer"], order), [(p["second"], p["p99_ms"]) for p in points], False))
        series.append((f"{name(run['authorizer'])} p50", color(run["authorizer"], order), [(p["second"], p["p50_ms"]) for p in points], True))
    marks = []
    # Both authorizers' runs follow one schedule; the first run's moments stand for it.
    for i, at in enumerate(runs[0].get("rotations_at_s", []), start=1):
        marks.append((at, f"rotation {i}"))
    revocation = runs[0].get("revocation")
    if revocation and revocation.get("revoke_at_s") is not None:
        marks.append((revocation["revoke_at_s"], "revoked"))
        if revocation.get("bound_ms") is not None:
            marks.append((revocation["revoke_at_s"] + revocation["bound_ms"] / 1000, "bound"))
    return charts.line_chart(
        f"chart-{scenario}-timeline",
        f"{title(scenario)}: latency over time (each second)",
        series,
        "seconds since the run started",
        "ms",
        marks,
    )


def headlines(rows, details):
    """A few sentences a reader takes away, from the figures themselves."""
    found = []
    cold = {run["authorizer"]: median(run["cold_requests_ms"]) for run in runs_of(details, "cold") if run.get("cold_requests_ms")}
    if "tollgate" in cold and "pyjwt" in cold and cold["tollgate"] > 0:
        found.append(
            f"Cold start: Tollgate's median cold request took {charts.label(cold['tollgate'])} ms, the PyJWT reference's "
            f"{charts.label(cold['pyjwt'])} ms ({cold['pyjwt'] / cold['tollgate']:.1f}x)."
        )
    for latency in sorted({r["latency_ms"] for r in network_runs(details)}):
        at = {network_series_name(r): r["p50_ms"] for r in network_runs(details) if r["latency_ms"] == latency}
        if "PyJWT" in at:
            found.append(
                f"Cold start over https, {latency} ms of added RTT: "
                + "; ".join(f"{k} p50 {charts.label(v)} ms ({at['PyJWT'] / v:.1f}x below PyJWT)" if k != "PyJWT" else f"PyJWT {charts.label(v)} ms" for k, v in at.items() if v)
                + "."
            )
    warm = {r["authorizer"]: r for r in rows if r["scenario"] == "warm"}
    if warm:
        found.append(
            "Warm: "
            + "; ".join(f"{long_name(a)} p50 {charts.label(r['p50_ms'])} ms, p99 {charts.label(r['p99_ms'])} ms over {r['requests']} requests" for a, r in warm.items())
            + "."
        )
    rotation = [r for r in rows if r["scenario"] == "rotation"]
    if rotation:
        found.append("Rotation: " + "; ".join(f"{long_name(r['authorizer'])} {r['failed']} failed of {r['requests']}" for r in rotation) + ".")
    for run in runs_of(details, "revocation"):
        revocation = run.get("revocation") or {}
        if revocation.get("enforced", True):
            found.append(
                f"Revocation: {long_name(run['authorizer'])} accepted a revoked token until {charts.label(revocation.get('accepted_until_ms', 0))} ms "
                f"after the revocation was sent (bound {charts.label((revocation.get('bound_ms') or 0) / 1000)} s)."
            )
        else:
            found.append(
                f"Revocation: {long_name(run['authorizer'])} cannot revoke one token; it accepted revoked tokens "
                f"{revocation.get('accepted_past_bound', 0)} times past the bound."
            )
    dpop = {r["authorizer"]: r for r in rows if r["scenario"] == "dpop"}
    replays = {run["authorizer"]: run.get("dpop_replays") or {} for run in runs_of(details, "dpop")}
    if dpop:
        found.append(
            "DPoP, a proof signed for every request: "
            + "; ".join(
                f"{long_name(a)} p50 {charts.label(r['p50_ms'])} ms, p99 {charts.label(r['p99_ms'])} ms over {r['requests']} requests, "
                f"{replays.get(a, {}).get('refused', 0)} of {replays.get(a, {}).get('sent', 0)} replayed proofs refused"
                for a, r in dpop.items()
            )
            + "."
        )
    return found


def run_table(rows, details):
    by_run = {(run["authorizer"], run["scenario"]): run for run in details.get("runs", [])}
    head = "".join(f"<th>{h}</th>" for h in ("authorizer", "scenario", "requests", "failed", "dropped iterations", "p50 ms", "p95 ms", "p99 ms", "thresholds", "k6 dashboard"))
    body = []
    for row in rows:
        run = by_run.get((row["authorizer"], row["scenario"]), {})
        failed_thresholds = run.get("thresholds_failed") or []
        verdict = "all passed" if not failed_thresholds and run.get("k6_exit_code", 0) == 0 else "failed: " + ", ".join(failed_thresholds)
        cells = [
            html.escape(name(row["authorizer"])),
            html.escape(row["scenario"]),
            row["requests"],
            row["failed"],
            run.get("dropped_iterations", 0),
            charts.label(row["p50_ms"]),
            charts.label(row["p95_ms"]),
            charts.label(row["p99_ms"]),
            html.escape(verdict),
            f'<a href="{html.escape(row["authorizer"])}-{html.escape(row["scenario"])}.html">open</a>',
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table id="runs"><tr>{head}</tr>\n' + "\n".join(body) + "</table>"


def network_table(details):
    """The cold runs over https: one row per authorizer, added RTT and snapshot."""
    runs = network_runs(details)
    if not runs:
        return ""
    heads = ("authorizer", "added RTT ms", "snapshot", "requests", "failed", "p50 ms", "p95 ms", "init ms",
             "JWKS DNS ms", "JWKS TCP + TLS ms", "JWKS requests ms", "first verification ms", "k6 dashboard")
    body = []
    for run in sorted(runs, key=lambda r: (r["latency_ms"], r["authorizer"], bool(r.get("snapshot")))):
        split = run.get("split") or {}
        cells = [html.escape(name(run["authorizer"])), run["latency_ms"], "yes" if run.get("snapshot") else "no",
                 run["requests"], run["failed"], charts.label(run["p50_ms"]), charts.label(run["p95_ms"])]
        cells += [charts.label(split[key]) if split.get(key) is not None else "–"
                  for key in ("init_ms", "jwks_dns_ms", "jwks_connect_tls_ms", "jwks_requests_ms", "first_verification_ms")]
        cells.append(f'<a href="{html.escape(run["authorizer"])}-{html.escape(run["label"])}.html">open</a>')
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (
        "<h2>Cold starts over https</h2><p>The cold scenario with the issuer behind <code>test-idp</code> (TLS with a test CA "
        "in a full bundle, both authorizers trusting it through <code>SSL_CERT_FILE</code>, and the added round-trip time), "
        "status lists off for both. With a snapshot Tollgate fetches the live JWKS after its first answer.</p>"
        f'<table id="cold-network"><tr>{head}</tr>\n' + "\n".join(body) + "</table>"
    )


def revocation_table(details):
    runs = runs_of(details, "revocation")
    if not runs:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("authorizer", "tokens revoked", "bound", "accepted until", "first refusal", "refusals", "accepted past the bound"))
    body = []
    for run in runs:
        r = run.get("revocation") or {}
        first = r.get("first_refusal_ms")
        cells = [
            html.escape(name(run["authorizer"])) + ("" if r.get("enforced", True) else " (cannot revoke)"),
            r.get("tokens_revoked", 0),
            f"{charts.label((r.get('bound_ms') or 0) / 1000)} s",
            f"{charts.label(r.get('accepted_until_ms', 0))} ms",
            "never" if first is None else f"{charts.label(first)} ms",
            r.get("refusals", 0),
            r.get("accepted_past_bound", 0),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<h2>Revocation</h2>\n<p>Times are from the moment the revocations were sent (all at once, RFC 7009 "
        "<code>POST /revoke</code>). \"Accepted until\" is the latest answer that still let a revoked token "
        "through: the time to refusal.</p>\n"
        f'<table id="revocation"><tr>{head}</tr>\n' + "\n".join(body) + "</table>"
    )


def replay_table(details):
    runs = [run for run in runs_of(details, "dpop") if run.get("dpop_replays")]
    if not runs:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("authorizer", "replayed proofs sent", "refused (401)", "accepted"))
    body = []
    for run in runs:
        r = run["dpop_replays"]
        cells = [html.escape(name(run["authorizer"])), r.get("sent", 0), r.get("refused", 0), r.get("accepted", 0)]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<h2>DPoP replays</h2>\n<p>One <code>dpop</code> iteration in <code>DPOP_REPLAY_EVERY</code> (10 in both "
        "profiles) sends the proof it has just had accepted once more, as someone who captured it would: each must "
        "be refused. The authorizer runs as one instance "
        "there, since both remember used proofs in their process's memory.</p>\n"
        f'<table id="dpop-replays"><tr>{head}</tr>\n' + "\n".join(body) + "</table>"
    )


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:78rem;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}.facts{color:#555;margin-top:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:1rem}
.charts figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.4rem;background:#fff}
svg.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
td,th{border:1px solid #ccc;padding:.25rem .55rem;text-align:right}
td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
pre{background:#f5f5f5;padding:1rem;overflow:auto;font-size:.8rem}
details{margin-top:1rem}
"""


def render(summary, details):
    """The whole page, from summary.json and details.json's contents."""
    rows = summary.get("rows", [])
    order = list(dict.fromkeys(r["authorizer"] for r in rows))
    figures = [cold_chart(details, order), cold_network_chart(details, order), cold_split_chart(details)]
    for scenario in STEADY:
        figures += [percentile_chart(details, scenario, order), timeline_chart(details, scenario, order)]
    figures = "\n".join(f"<figure>{svg}</figure>" for svg in figures if svg)
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in headlines(rows, details))
    facts = (
        f"Profile <b>{html.escape(str(details.get('profile', '?')))}</b> ({html.escape(str(details.get('build', '?')))} build), "
        f"started {html.escape(str(details.get('started', '?')))}, on {html.escape(str(details.get('machine', '?')))}."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tollgate load test ({html.escape(str(details.get('profile', '')))})</title>
<style>{STYLE}</style></head><body>
<h1>Tollgate load test</h1>
<p class="facts">{facts}</p>
<ul class="headlines">{sentences}</ul>
<p>Latency is k6's <code>http_req_duration</code> of the measured requests (<code>GET /books</code> with a
token, through the gateway, the authorizer and the books backend). Hover a point for its value.</p>
<div class="charts">
{figures}
</div>
<h2>Runs</h2>
{run_table(rows, details)}
{network_table(details)}
{revocation_table(details)}
{replay_table(details)}
<p>Each "open" link is k6's own web-dashboard export for that run (request rate, latency and failures over time).</p>
<details><summary>Details (the same as <code>details.json</code>)</summary><pre>{html.escape(json.dumps(details, indent=1))}</pre></details>
</body></html>
"""


def write(out):
    """report.html in `out` from the summary.json and details.json there."""
    summary = json.loads((out / "summary.json").read_text())
    details = json.loads((out / "details.json").read_text())
    (out / "report.html").write_text(render(summary, details))


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "out")
