"""The suite's outputs after a run (`make loadtest-smoke` runs this after the
smoke profile): summary.json in DESIGN.md's shape with every row, rotation
without a failed request, and report.html with each run's k6 dashboard."""

import json
import unittest
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "out"
AUTHORIZERS = ("tollgate", "pyjwt")
SCENARIOS = ("cold", "warm", "rotation")
ROW_KEYS = {"authorizer", "scenario", "requests", "failed", "p50_ms", "p95_ms", "p99_ms"}


class SummaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.summary = json.loads((OUT / "summary.json").read_text())

    def test_summary_has_exactly_the_design_shape(self):
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
