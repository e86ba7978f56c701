"""Runs the k6 suite and writes loadtest/out/summary.json and report.html.

Locally (no BASE_URL): for each authorizer (tollgate, pyjwt) and scenario
(cold, warm, rotation, revocation, dpop) it starts a fresh local stack (`tollgate serve`, its
authorizer in Lambda-runtime mode) on a free loopback port, runs k6 against
it, and stops it. With BASE_URL: the same scripts against a deployed API
(see README). Every run is bounded in time and request count. The pieces
are in loadtest/runner/, one job a module (its __init__ lists them).

Environment: LOADTEST_PROFILE=smoke|full (default full), LOADTEST_BUILD=
release|debug (which target/ binaries to use; default release),
LOADTEST_AUTHORIZERS (default "tollgate pyjwt"), LOADTEST_SCENARIOS (default
"cold warm rotation revocation dpop"; against BASE_URL, all but dpop),
BASE_URL and friends for a deployed API.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402  (loadtest/report.py, beside this file)
from runner.deployed import run_deployed  # noqa: E402
from runner.host import log, machine  # noqa: E402
from runner.local import run_local  # noqa: E402
from runner.paths import OUT  # noqa: E402
from runner.profiles import PROFILES  # noqa: E402
from runner.summary import table  # noqa: E402


def main():
    profile = os.environ.get("LOADTEST_PROFILE", "full")
    if profile not in PROFILES:
        raise SystemExit(f"LOADTEST_PROFILE must be smoke or full, not {profile!r}")
    build = os.environ.get("LOADTEST_BUILD", "release")
    if build not in ("release", "debug"):
        raise SystemExit(f"LOADTEST_BUILD must be release or debug, not {build!r}")
    OUT.mkdir(exist_ok=True)
    for stale in [*OUT.glob("*.json"), *OUT.glob("*.html")]:
        stale.unlink()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    clock = time.monotonic()
    if os.environ.get("BASE_URL"):
        rows, extras = run_deployed(profile)
    else:
        rows, extras = run_local(profile, build)
    (OUT / "summary.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    (OUT / "details.json").write_text(json.dumps({"profile": profile, "build": build, "started": started, "machine": machine(), "runs": extras}, indent=2) + "\n")
    report.write(OUT)
    print()
    target = f"against {os.environ['BASE_URL']}" if os.environ.get("BASE_URL") else f"{build} build"
    print(f"Tollgate load test, profile {profile} ({target}), {started}, {machine()}")
    print(table(rows))
    print(f"\nwrote {OUT / 'summary.json'} and {OUT / 'report.html'} in {time.monotonic() - clock:.0f} s")
    failing = [e for e in extras if e["thresholds_failed"] or e["k6_exit_code"] != 0]
    for e in failing:
        log(f"{e['authorizer']}/{e['scenario']}: k6 exit {e['k6_exit_code']}, thresholds failed: {e['thresholds_failed']}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
