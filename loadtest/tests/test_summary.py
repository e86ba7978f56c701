"""The suite's outputs after a run (`make loadtest-smoke` runs this after the
smoke profile): summary.json in docs/reference.md's shape with every row, rotation
without a failed request, revoked tokens refused within the bound by
Tollgate, every replayed DPoP proof refused by both, and report.html with
its charts, figures and each run's k6 dashboard."""

import json
import re
import sys
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import charts  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "out"
AUTHORIZERS = ("tollgate", "pyjwt")
SCENARIOS = ("cold", "warm", "rotation", "revocation", "dpop")
ROW_KEYS = {"authorizer", "scenario", "requests", "failed", "p50_ms", "p95_ms", "p99_ms"}


class SummaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.summary = json.loads((OUT / "summary.json").read_text())

    def test_summary_has_exactly_the_reference_shape(self):
        self.assertEqual(set(self.summary), {"rows"})
        for row in self.summary["rows"]:
            self.assertEqual(set(row), ROW_KEYS, row)
            self.assertIsInstance(row["requests"], int)
            self.assertIsInstance(row["failed"], int)
            for key in ("p50_ms", "p95_ms", "p99_ms"):
                self.assertIsInstance(row[key], (int, float))
            self.assertLessEqual(row["p50_ms"], row["p95_ms"])
            self.assertLessEqual(row["p95_ms"], row["p99_ms"])

    def test_every_authorizer_ran_every_scenario(self):
        pairs = [(row["authorizer"], row["scenario"]) for row in self.summary["rows"]]
        self.assertEqual(sorted(pairs), sorted((a, s) for a in AUTHORIZERS for s in SCENARIOS))
        for row in self.summary["rows"]:
            self.assertGreater(row["requests"], 0, row)
            self.assertGreater(row["p50_ms"], 0, row)

    def test_rotation_failed_nothing(self):
        for row in self.summary["rows"]:
            if row["scenario"] == "rotation":
                self.assertEqual(row["failed"], 0, row)
        details = json.loads((OUT / "details.json").read_text())
        for run in details["runs"]:
            if run["scenario"] == "rotation":
                self.assertGreaterEqual(run.get("rotations", 0), 3, run)
                self.assertEqual(run["all_requests_failed_rate"], 0, run)

    def test_tollgate_refused_every_revoked_token_within_the_bound(self):
        details = json.loads((OUT / "details.json").read_text())
        runs = {run["authorizer"]: run for run in details["runs"] if run["scenario"] == "revocation"}
        tollgate = runs["tollgate"]["revocation"]
        self.assertTrue(tollgate["enforced"])
        self.assertEqual(tollgate["tokens_revoked"], 2)
        self.assertEqual(tollgate["accepted_past_bound"], 0, tollgate)
        self.assertLessEqual(tollgate["accepted_until_ms"], tollgate["bound_ms"], tollgate)
        self.assertGreater(tollgate["refusals"], 0, tollgate)
        self.assertEqual(runs["tollgate"]["thresholds_failed"], [])
        # The reference cannot revoke one token: the run shows it.
        pyjwt = runs["pyjwt"]["revocation"]
        self.assertFalse(pyjwt["enforced"])
        self.assertEqual(pyjwt["refusals"], 0, pyjwt)
        self.assertGreater(pyjwt["accepted_past_bound"], 0, pyjwt)

    def test_both_refused_every_replayed_dpop_proof_and_failed_nothing(self):
        for row in self.summary["rows"]:
            if row["scenario"] == "dpop":
                self.assertEqual(row["failed"], 0, row)
        details = json.loads((OUT / "details.json").read_text())
        runs = {run["authorizer"]: run for run in details["runs"] if run["scenario"] == "dpop"}
        self.assertEqual(sorted(runs), sorted(AUTHORIZERS))
        for run in runs.values():
            replays = run["dpop_replays"]
            self.assertGreater(replays["sent"], 0, run)
            self.assertEqual(replays["refused"], replays["sent"], run)
            self.assertEqual(replays["accepted"], 0, run)
            self.assertEqual(run["all_requests_failed_rate"], 0, run)
            self.assertEqual(run["thresholds_failed"], [], run)

    def test_report_draws_every_chart_with_the_runs_figures(self):
        report = (OUT / "report.html").read_text()
        svgs = {root.get("id"): root for root in (ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", report, re.S))}
        expected = {"chart-cold"} | {f"chart-{s}-{kind}" for s in ("warm", "rotation", "revocation", "dpop") for kind in ("percentiles", "timeline")}
        details = json.loads((OUT / "details.json").read_text())
        if any(run["scenario"] == "cold_network" for run in details["runs"]):
            expected |= {"chart-cold-network", "chart-cold-split"}
        self.assertEqual(set(svgs), expected)
        svg = "{http://www.w3.org/2000/svg}"
        # Every cold request of both authorizers is a dot.
        cold_rows = [r for r in self.summary["rows"] if r["scenario"] == "cold"]
        self.assertEqual(len(svgs["chart-cold"].findall(f"{svg}circle")), sum(r["requests"] for r in cold_rows))
        # The warm percentiles are labelled with the summary's own figures.
        labels = {t.text for t in svgs["chart-warm-percentiles"].iter(f"{svg}text")}
        for row in self.summary["rows"]:
            if row["scenario"] == "warm":
                self.assertIn(charts.label(row["p50_ms"]), labels, row)
                self.assertIn(charts.label(row["p99_ms"]), labels, row)
        marks = [g for g in svgs["chart-rotation-timeline"].findall(f"{svg}g") if g.get("class") == "mark"]
        self.assertGreaterEqual(len(marks), 3)
        self.assertLess(report.index("<svg"), report.index('<table id="runs"'))
        self.assertIn("<details>", report)
        self.assertIn('<table id="dpop-replays"', report)

    def test_the_https_cold_runs_answered_every_request(self):
        """The smoke profile's cold runs over https (runner/network.py): both
        authorizers through test-idp's TLS front, Tollgate with and without
        a snapshot, every request answered, Tollgate's cold start split."""
        details = json.loads((OUT / "details.json").read_text())
        runs = [run for run in details["runs"] if run["scenario"] == "cold_network"]
        seen = {(run["authorizer"], run["snapshot"]) for run in runs}
        self.assertEqual(seen, {("tollgate", False), ("tollgate", True), ("pyjwt", False)} & {(a, s) for a in AUTHORIZERS for s in (False, True)})
        for run in runs:
            self.assertTrue(run["tls"], run)
            self.assertGreater(run["requests"], 0, run)
            self.assertEqual(run["failed"], 0, run)
            self.assertEqual(run["thresholds_failed"], [], run)
            self.assertGreater(run["idp_connections"], 0, run)
            if run["authorizer"] == "tollgate":
                self.assertIsNotNone(run["split"], run)
                if run["snapshot"]:
                    # The live JWKS came after the first answer, off its path.
                    self.assertEqual(run["split"]["jwks_requests_ms"], 0.0, run)

    def test_report_opens_and_links_every_run(self):
        report = (OUT / "report.html").read_text()
        self.assertTrue(report.startswith("<!doctype html>"))
        for authorizer in AUTHORIZERS:
            for scenario in SCENARIOS:
                name = f"{authorizer}-{scenario}.html"
                self.assertIn(f'href="{name}"', report)
                dashboard = (OUT / name).read_text()
                self.assertIn("<html", dashboard[:2000].lower(), name)


if __name__ == "__main__":
    unittest.main()
