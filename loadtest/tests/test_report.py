"""report.html from a run's summary and details: charts first (every cold
request, percentiles and latency over time with rotations and the
revocation marked), then the table and the revocation figures, the raw
details only behind a disclosure. Each chart must be well-formed SVG, drawn
to scale, with no script and nothing fetched from elsewhere."""

import html
import json
import re
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import charts  # noqa: E402
import report  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def timeline(seconds, p50, p99):
    return [{"second": s, "count": 40, "p50_ms": p50, "p90_ms": p50, "p95_ms": p99, "p99_ms": p99, "max_ms": p99 + 1} for s in range(seconds)]


def run_details(authorizer, scenario, **extra):
    base = {
        "authorizer": authorizer,
        "scenario": scenario,
        "k6_exit_code": 0,
        "dropped_iterations": 0,
        "thresholds_failed": [],
        "percentiles_ms": {"p50": 2.0, "p90": 3.0, "p95": 3.5, "p99": 4.5, "max": 9.0},
    }
    base.update(extra)
    return base


SUMMARY = {
    "rows": [
        {"authorizer": a, "scenario": s, "requests": 100, "failed": 0, "p50_ms": 2.0, "p95_ms": 3.5, "p99_ms": 4.5}
        for a in ("tollgate", "pyjwt")
        for s in ("cold", "warm", "rotation", "revocation", "dpop")
    ]
}
DETAILS = {
    "profile": "full",
    "build": "release",
    "started": "2026-12-04 00:00 UTC",
    "machine": "test machine",
    "runs": [
        run_details("tollgate", "cold", cold_requests_ms=[12.5, 14.0, 11.0]),
        run_details("pyjwt", "cold", cold_requests_ms=[210.0, 230.0, 190.0]),
        run_details("tollgate", "warm", timeline=timeline(30, 2.1, 4.2)),
        run_details("pyjwt", "warm", percentiles_ms={"p50": 2.5, "p90": 4.0, "p95": 5.0, "p99": 7.25, "max": 20.0}, timeline=timeline(30, 2.6, 7.3)),
        run_details("tollgate", "rotation", rotations=4, rotations_at_s=[10.2, 20.3, 30.1, 40.4], timeline=timeline(50, 2.0, 4.0)),
        run_details("pyjwt", "rotation", rotations=4, rotations_at_s=[10.1, 20.2, 30.3, 40.2], timeline=timeline(50, 2.5, 8.0)),
        run_details(
            "tollgate",
            "revocation",
            timeline=timeline(20, 2.0, 4.0),
            revocation={"tokens_revoked": 10, "enforced": True, "bound_ms": 6000, "revoke_at_s": 5, "revocation_request_ms": 8, "accepted_until_ms": 1234.0, "first_refusal_ms": 3.0, "refusals": 900, "accepted_past_bound": 0},
        ),
        run_details(
            "pyjwt",
            "revocation",
            dropped_iterations=3,
            timeline=timeline(20, 2.5, 5.0),
            revocation={"tokens_revoked": 10, "enforced": False, "bound_ms": 6000, "revoke_at_s": 5, "revocation_request_ms": 9, "accepted_until_ms": 15000, "first_refusal_ms": None, "refusals": 0, "accepted_past_bound": 1350},
        ),
        run_details("tollgate", "dpop", timeline=timeline(20, 2.2, 4.4), dpop_replays={"sent": 400, "refused": 400, "accepted": 0}),
        run_details("pyjwt", "dpop", timeline=timeline(20, 2.9, 6.1), dpop_replays={"sent": 399, "refused": 397, "accepted": 2}),
    ],
}


def network_run(authorizer, latency, snapshot, p50, p95, split=None):
    return run_details(
        authorizer, "cold_network", label=f"cold-https-{latency}ms" + ("-snapshot" if snapshot else ""), tls=True,
        latency_ms=latency, snapshot=snapshot, p50_ms=p50, p95_ms=p95, requests=11, failed=0, split=split,
    )


def split(init, dns, connect, requests, verification):
    return {"init_ms": init, "jwks_dns_ms": dns, "jwks_connect_tls_ms": connect, "jwks_requests_ms": requests,
            "first_verification_ms": verification, "live_fetch_off_path_ms": None}


NETWORK_RUNS = [
    network_run("tollgate", 0, False, 8.0, 10.0, split(1.0, 0.3, 2.0, 1.0, 0.1)),
    network_run("tollgate", 0, True, 4.0, 5.0, split(1.0, 0.0, 0.0, 0.0, 0.1)),
    network_run("pyjwt", 0, False, 120.0, 140.0),
    network_run("tollgate", 20, False, 70.0, 80.0, split(1.0, 0.3, 42.0, 21.0, 0.1)),
    network_run("tollgate", 20, True, 4.5, 6.0, split(1.0, 0.0, 0.0, 0.0, 0.1)),
    network_run("pyjwt", 20, False, 180.0, 200.0),
]


class NetworkReportTest(unittest.TestCase):
    """The cold runs over https: p50 and p95 against the added RTT, one line
    each per authorizer (and Tollgate with a snapshot), and Tollgate's split."""

    @classmethod
    def setUpClass(cls):
        details = dict(DETAILS, runs=DETAILS["runs"] + NETWORK_RUNS)
        cls.page = report.render(SUMMARY, details)
        cls.svgs = {root.get("id"): root for root in (ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", cls.page, re.S))}

    def test_p50_and_p95_lines_against_latency(self):
        lines = self.svgs["chart-cold-network"].findall(f"{SVG}polyline")
        names = sorted(line.get("data-name") for line in lines)
        self.assertEqual(names, sorted(f"{n} {p}" for n in ("Tollgate", "Tollgate + snapshot", "PyJWT") for p in ("p50", "p95")))
        for line in lines:
            self.assertEqual(len(line.get("points").split()), 2, line.get("data-name"))

    def test_the_split_has_a_bar_per_phase_and_run(self):
        bars = self.svgs["chart-cold-split"].findall(f"{SVG}rect")
        tollgate_runs = [r for r in NETWORK_RUNS if r["authorizer"] == "tollgate"]
        self.assertEqual(len([b for b in bars if b.get("class") == "bar"]), 6 * len(tollgate_runs))

    def test_a_table_and_a_headline_per_latency(self):
        self.assertIn('<table id="cold-network"', self.page)
        self.assertIn("Cold start over https, 20 ms of added RTT", self.page)
        self.assertIn("40.0x below PyJWT", self.page)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.page = report.render(SUMMARY, DETAILS)
        cls.svgs = {
            root.get("id"): root
            for root in (ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", cls.page, re.S))
        }

    def test_the_charts_come_first(self):
        self.assertTrue(self.page.startswith("<!doctype html>"))
        self.assertLess(self.page.index("<svg"), self.page.index('<table id="runs"'))
        self.assertEqual(
            sorted(self.svgs),
            sorted(
                ["chart-cold"]
                + [f"chart-{s}-{kind}" for s in ("warm", "rotation", "revocation", "dpop") for kind in ("percentiles", "timeline")]
            ),
        )

    def test_every_cold_request_is_a_dot_on_a_log_scale_when_they_differ_that_much(self):
        cold = self.svgs["chart-cold"]
        dots = cold.findall(f"{SVG}circle")
        self.assertEqual(len(dots), 6)
        self.assertIn("log scale", ET.tostring(cold, encoding="unicode"))
        height = {dot.find(f"{SVG}title").text: float(dot.get("cy")) for dot in dots}
        # Higher on the page (smaller y) is slower.
        self.assertLess(height["PyJWT (median 210 ms) #2: 230 ms"], height["Tollgate (median 12.5 ms) #2: 14 ms"])
        self.assertIn("median 12.5 ms", self.page)

    def test_percentile_bars_are_drawn_to_scale_with_their_values(self):
        bars = {
            (bar.get("data-name"), bar.get("data-group")): float(bar.get("height"))
            for bar in self.svgs["chart-warm-percentiles"].findall(f"{SVG}rect")
        }
        self.assertEqual(len(bars), 10)
        self.assertAlmostEqual(bars[("PyJWT", "max")] / bars[("Tollgate", "max")], 20.0 / 9.0, places=2)
        self.assertGreater(bars[("PyJWT", "p99")], bars[("Tollgate", "p99")])
        texts = [t.text for t in self.svgs["chart-warm-percentiles"].iter(f"{SVG}text")]
        self.assertIn("7.25", texts)

    def test_latency_over_time_has_a_line_per_authorizer_and_percentile_and_marks_the_events(self):
        rotation = self.svgs["chart-rotation-timeline"]
        lines = rotation.findall(f"{SVG}polyline")
        self.assertEqual([line.get("data-name") for line in lines], ["Tollgate p99", "Tollgate p50", "PyJWT p99", "PyJWT p50"])
        self.assertEqual(len(lines[0].get("points").split()), 50)
        marks = [g for g in rotation.findall(f"{SVG}g") if g.get("class") == "mark"]
        self.assertEqual([m.find(f"{SVG}text").text for m in marks], ["rotation 1", "rotation 2", "rotation 3", "rotation 4"])
        revocation = self.svgs["chart-revocation-timeline"]
        labels = [g.find(f"{SVG}text").text for g in revocation.findall(f"{SVG}g") if g.get("class") == "mark"]
        self.assertEqual(labels, ["revoked", "bound"])

    def test_counts_failures_drops_and_revocation_figures_are_in_tables(self):
        runs = self.page[self.page.index('<table id="runs"') :]
        self.assertIn("<td>3</td>", runs[: runs.index("</table>")])  # pyjwt's dropped iterations
        revocation = self.page[self.page.index('<table id="revocation"') :]
        revocation = revocation[: revocation.index("</table>")]
        self.assertIn("<td>1234 ms</td>", revocation)
        self.assertIn("cannot revoke", revocation)
        self.assertIn("<td>1350</td>", revocation)
        self.assertIn("never", revocation)
        replays = self.page[self.page.index('<table id="dpop-replays"') :]
        replays = replays[: replays.index("</table>")]
        self.assertIn("<tr><td>PyJWT</td><td>399</td><td>397</td><td>2</td></tr>", replays)

    def test_the_raw_details_are_behind_a_disclosure(self):
        disclosure = self.page[self.page.index("<details>") : self.page.index("</details>")]
        self.assertIn("&quot;accepted_past_bound&quot;: 1350", disclosure)
        outside = self.page.replace(disclosure, "")
        self.assertNotIn("accepted_past_bound", outside)

    def test_it_opens_offline(self):
        self.assertNotIn("<script", self.page)
        self.assertIsNone(re.search(r'(src|href)="https?://', self.page))
        self.assertIn('name="viewport"', self.page)

    def test_headlines_compare_the_two(self):
        text = html.unescape(self.page)
        self.assertIn("Tollgate's median cold request took 12.5 ms, the PyJWT reference's 210 ms (16.8x)", text)
        self.assertIn("Revocation: Tollgate accepted a revoked token until 1234 ms", text)
        self.assertIn("the PyJWT reference cannot revoke one token", text)
        self.assertIn("Tollgate p50 2 ms, p99 4.5 ms over 100 requests, 400 of 400 replayed proofs refused", text)

    def test_the_page_renders_from_files_as_the_runner_writes_them(self):
        with tempfile.TemporaryDirectory() as directory:
            out = Path(directory)
            (out / "summary.json").write_text(json.dumps(SUMMARY))
            (out / "details.json").write_text(json.dumps(DETAILS))
            report.write(out)
            self.assertEqual((out / "report.html").read_text(), self.page)


class ScaleTest(unittest.TestCase):
    def test_linear_axes_end_on_round_numbers(self):
        self.assertEqual(charts.nice_range(0, 7.3), (0, 8, 2))
        self.assertEqual(charts.nice_range(0, 230), (0, 250, 50))

    def test_log_axes_cover_whole_decades(self):
        scale = charts.Scale(3, 240, 100, 0, log=True)
        self.assertEqual((scale.lo, scale.hi), (1, 1000))
        self.assertEqual(scale(1), 100)
        self.assertEqual(scale(1000), 0)
        self.assertIn(200, scale.ticks())

    def test_labels_keep_the_digits_that_matter(self):
        self.assertEqual([charts.label(v) for v in (0, 0.125, 4.5, 12.25, 1234.5)], ["0", "0.12", "4.5", "12.2", "1234"])


if __name__ == "__main__":
    unittest.main()
