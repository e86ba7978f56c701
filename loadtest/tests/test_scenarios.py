"""The k6 scenarios' thresholds and the runner's time limits: the real k6
(loadtest/.venv) against a stub of the API on loopback, so no Rust binary is
needed. A run must fail when it makes fewer measured requests than it sets
out to or drops iterations, and end with k6's summary rather than be killed."""

import json
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyjwt_authorizer"))
import dpop  # noqa: E402  (the PyJWT reference's proof checks)
from runner import deployed, k6, profiles, summary, tollgate_defaults  # noqa: E402
from runner.paths import SCENARIO_SCRIPTS, VENV_BIN  # noqa: E402

K6 = VENV_BIN / "k6"


class StubApi:
    """`POST /token` (a new token each time; bound to the key of a `DPoP`
    proof sent with it), `GET /books` (after `delay` seconds; a bound token
    only as DPoP with a proof the PyJWT reference's checks accept, each
    proof once unless `replays_pass`), `POST /admin/keys/rotate`, `POST
    /revoke` (a revoked token is refused `revocation_lag` seconds later;
    None: never) and `POST /cold-start` (the runner's cold-start hook), each
    call recorded in order as (what, token, time)."""

    def __init__(self, delay=0.0, rotation_wait=0.0, revocation_lag=0.0, replays_pass=False):
        self.delay = delay
        # token -> the thumbprint of the DPoP key it is bound to
        self.bound = {}
        self.proofs = dpop.ProofChecker(used=AnyProofIsNew() if replays_pass else None)
        self.revocation_lag = revocation_lag
        self.revoked = {}
        # Like the deployed issuer: a rotation is refused (429) while the
        # `next` key, created at start or by the last rotation, is younger.
        self.rotation_wait = rotation_wait
        self.next_created = time.monotonic()
        self.events = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/revoke":
                    token = parse_qs(body.decode()).get("token", [""])[0]
                    with stub.lock:
                        stub.revoked.setdefault(token, time.monotonic())
                    stub.record("revoke", token)
                    self.answer(200, "")
                elif self.path == "/token":
                    jkt = None
                    if self.headers.get("DPoP"):
                        try:
                            jkt = stub.check_proof(self.headers["DPoP"], "POST", "/token")
                        except dpop.ProofRefused:
                            self.answer(400, json.dumps({"error": "invalid_dpop_proof"}))
                            return
                    with stub.lock:
                        token = f"token-{sum(1 for e in stub.events if e[0] == 'login')}"
                        stub.events.append(("login", token, time.monotonic()))
                        if jkt:
                            stub.bound[token] = jkt
                    self.answer(200, json.dumps({"access_token": token, "token_type": "DPoP" if jkt else "Bearer"}))
                elif self.path == "/admin/keys/rotate":
                    with stub.lock:
                        now = time.monotonic()
                        refused = now - stub.next_created < stub.rotation_wait
                        if not refused:
                            stub.next_created = now
                        stub.events.append(("refused" if refused else "rotate", None, now))
                    self.answer(429 if refused else 200, "{}")
                elif self.path == "/cold-start":
                    stub.record("cold-start", None)
                    self.answer(204, "")
                else:
                    self.answer(404, "")

            def do_GET(self):
                if self.path.startswith("/books"):
                    time.sleep(stub.delay)
                    scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                    stub.record("books", token)
                    with stub.lock:
                        revoked_at = stub.revoked.get(token)
                        bound_jkt = stub.bound.get(token)
                    refused = revoked_at is not None and stub.revocation_lag is not None and time.monotonic() - revoked_at >= stub.revocation_lag
                    if bound_jkt is not None:
                        refused = scheme != "DPoP"
                        try:
                            stub.check_proof(self.headers.get("DPoP", ""), "GET", "/books", token, bound_jkt)
                        except dpop.ProofRefused:
                            refused = True
                    self.answer(401 if refused else 200, "[]")
                else:
                    self.answer(404, "")

            def answer(self, status, body):
                data = body.encode()
                self.send_response(status)
                if status != 204:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check_proof(self, proof, method, path, token=None, bound_jkt=None):
        """The reference's checks of a proof for `method` on `path` here; its key's thumbprint."""
        with self.lock:
            return self.proofs.check(proof, method, [self.url + path], token, bound_jkt)

    def record(self, what, token):
        with self.lock:
            self.events.append((what, token, time.monotonic()))

    def of(self, what):
        with self.lock:
            return [e for e in self.events if e[0] == what]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AnyProofIsNew(dpop.UsedProofs):
    """A replay memory that remembers nothing: every replay passes."""

    def first_use(self, key, expires_at, now):
        return True


@unittest.skipUnless(K6.exists(), f"{K6} is missing: run `make setup-loadtest`")
class ScenarioThresholdTest(unittest.TestCase):
    def setUp(self):
        self.out = Path(tempfile.mkdtemp(prefix="tollgate-scenarios-"))
        self.addCleanup(shutil.rmtree, self.out, True)

    def run_scenario(self, scenario, stub, **env):
        env = dict(env, BASE_URL=stub.url, LOADTEST_PASSWORD="pw", LOADTEST_ADMIN_PASSWORD="pw")
        data = k6.run_k6(scenario, "stub", env, out=self.out)
        return summary.row("stub", scenario, data), summary.details("stub", scenario, data)

    def assert_passed(self, details):
        self.assertEqual(details["thresholds_failed"], [], details)
        self.assertEqual(details["k6_exit_code"], 0, details)

    def test_runs_that_make_their_requests_pass(self):
        stub = StubApi()
        self.addCleanup(stub.close)
        row, details = self.run_scenario("cold", stub, COLD_ITERATIONS="3", COLD_PAUSE_SECONDS="0.01")
        self.assert_passed(details)
        self.assertEqual(row["requests"], 3)
        row, details = self.run_scenario("warm", stub, WARM_RATE="20", WARM_WARMUP="1s", WARM_DURATION="2s", WARM_TOKENS="4", WARM_VUS="5")
        self.assert_passed(details)
        self.assertGreaterEqual(row["requests"], 40)
        row, details = self.run_scenario("rotation", stub, ROTATION_RATE="10", ROTATIONS="1", ROTATION_SPACING_SECONDS="1", ROTATION_VUS="5")
        self.assert_passed(details)
        self.assertGreaterEqual(row["requests"], 20)
        self.assertEqual(details["rotations"], 1)

    def revoke_against(self, stub, **env):
        env = dict(
            dict(REVOCATION_RATE="40", REVOCATION_DURATION="4s", REVOCATION_TOKENS="4", REVOKED_TOKENS="2", REVOKE_AT_SECONDS="1", REVOCATION_VUS="5"),
            **env,
        )
        return self.run_scenario("revocation", stub, **env)

    def test_revoked_tokens_refused_within_the_bound_pass_and_the_others_are_measured(self):
        stub = StubApi(revocation_lag=0.3)
        self.addCleanup(stub.close)
        row, details = self.revoke_against(stub, REVOCATION_BOUND_SECONDS="1")
        self.assert_passed(details)
        self.assertEqual(len(stub.of("revoke")), 2)
        # Half the tokens are measured: 40/s for 4 s, half of them.
        self.assertGreaterEqual(row["requests"], 78)
        self.assertEqual(row["failed"], 0)
        revocation = details["revocation"]
        self.assertEqual(revocation["tokens_revoked"], 2)
        # Revoked tokens take 2 of every 4 requests at 40/s, so the widest gap
        # between their requests is 75 ms, more when the machine is busy: the
        # last acceptance lands anywhere from about 225 ms to the 300 ms lag.
        # A floor well below that still proves acceptances after the
        # revocation were measured (the revoker's own mark is 0).
        self.assertGreaterEqual(revocation["accepted_until_ms"], 100)
        self.assertLess(revocation["accepted_until_ms"], 1000)
        self.assertGreater(revocation["refusals"], 0)
        self.assertEqual(revocation["accepted_past_bound"], 0)
        self.assertTrue(details["timeline"], "a latency-over-time series")

    def test_a_revoked_token_accepted_past_the_bound_fails_the_run(self):
        stub = StubApi(revocation_lag=2.0)
        self.addCleanup(stub.close)
        _, details = self.revoke_against(stub, REVOCATION_BOUND_SECONDS="1")
        self.assertIn("revoked_token_accepted_past_bound", details["thresholds_failed"])
        self.assertIn("checks", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)

    def test_an_authorizer_that_cannot_revoke_is_counted_not_failed(self):
        stub = StubApi(revocation_lag=None)
        self.addCleanup(stub.close)
        env = profiles.revocation_env({}, "pyjwt", 0)
        self.assertEqual(env["REVOCATION_ENFORCED"], "no")
        _, details = self.revoke_against(stub, **env)
        self.assert_passed(details)
        self.assertFalse(details["revocation"]["enforced"])
        self.assertGreater(details["revocation"]["accepted_past_bound"], 0)
        self.assertIsNone(details["revocation"]["first_refusal_ms"])

    def test_every_cold_request_carries_a_token_never_presented_before(self):
        """API Gateway caches the authorizer's answer per token: a repeated
        token could be answered without reaching the new instance."""
        stub = StubApi()
        self.addCleanup(stub.close)
        row, details = self.run_scenario(
            "cold", stub, COLD_ITERATIONS="4", COLD_PAUSE_SECONDS="0.01", COLD_START_HOOK=stub.url + "/cold-start"
        )
        self.assert_passed(details)
        self.assertEqual(row["requests"], 4)
        books = [token for what, token, _ in stub.of("books")]
        self.assertEqual(len(books), 4)
        self.assertEqual(len(set(books)), 4, books)
        # Each token is minted for its request (login, then the cold start,
        # then the measured request) and presented nowhere before it.
        with stub.lock:
            events = [(what, token) for what, token, _ in stub.events]
        for token in books:
            at = events.index(("books", token))
            self.assertEqual(events[at - 2:at], [("login", token), ("cold-start", None)], events)

    def dpop_against(self, stub):
        return self.run_scenario("dpop", stub, DPOP_RATE="20", DPOP_DURATION="2s", DPOP_VUS="5", DPOP_REPLAY_EVERY="5")

    def test_dpop_proofs_pass_the_references_checks_and_every_replay_is_refused(self):
        stub = StubApi()
        self.addCleanup(stub.close)
        row, details = self.dpop_against(stub)
        self.assert_passed(details)
        self.assertGreaterEqual(row["requests"], 39)
        self.assertEqual(row["failed"], 0)
        # One login, with a proof: the token is bound.
        self.assertEqual(len(stub.of("login")), 1)
        self.assertEqual(list(stub.bound), [stub.of("login")[0][1]])
        replays = details["dpop_replays"]
        self.assertGreaterEqual(replays["sent"], 8)
        self.assertEqual(replays["refused"], replays["sent"])
        self.assertEqual(replays["accepted"], 0)
        self.assertTrue(details["timeline"], "a latency-over-time series")
        # The measured requests, the replays, the warm-up and the bound
        # token refused as Bearer in setup().
        self.assertEqual(len(stub.of("books")), row["requests"] + replays["sent"] + 2)

    def test_a_replayed_proof_that_gets_through_fails_the_run(self):
        stub = StubApi(replays_pass=True)
        self.addCleanup(stub.close)
        _, details = self.dpop_against(stub)
        self.assertGreater(details["dpop_replays"]["accepted"], 0)
        self.assertEqual(details["dpop_replays"]["refused"], 0)
        self.assertIn("replays_accepted", details["thresholds_failed"])
        self.assertIn("checks", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)

    def test_a_run_cut_short_by_its_max_duration_fails_and_still_ends_with_a_summary(self):
        stub = StubApi(delay=0.5)
        self.addCleanup(stub.close)
        row, details = self.run_scenario("cold", stub, COLD_ITERATIONS="8", COLD_PAUSE_SECONDS="0.01", COLD_MAX_DURATION="2s")
        self.assertLess(row["requests"], 8)
        self.assertEqual(row["failed"], 0)
        self.assertIn("http_reqs{measured:yes}", details["thresholds_failed"])
        self.assertIn("dropped_iterations{scenario:cold}", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)

    def test_tokens_minted_beforehand_leave_logins_out_of_warm_and_bare(self):
        """stack_cost.py measures the stack's CPU over k6's run: no login
        (an argon2 hash) may fall inside it."""
        stub = StubApi()
        self.addCleanup(stub.close)
        given = ["tok-a", "tok-b", "tok-c"]
        row, details = self.run_scenario("bare", stub, LOADTEST_TOKENS=",".join(given), WARM_RATE="20", WARM_DURATION="2s", WARM_VUS="5")
        self.assert_passed(details)
        self.assertGreaterEqual(row["requests"], 40)
        self.assertEqual(stub.of("login"), [])
        self.assertLessEqual({token for _, token, _ in stub.of("books")}, set(given))
        # warm.js: WARM_TOKENS + 1 of them (the last one warms up).
        row, details = self.run_scenario(
            "warm", stub, LOADTEST_TOKENS=",".join(given), WARM_RATE="20", WARM_WARMUP="1s", WARM_DURATION="2s", WARM_TOKENS="2", WARM_VUS="5"
        )
        self.assert_passed(details)
        self.assertEqual(stub.of("login"), [])
        self.assertLessEqual({token for _, token, _ in stub.of("books")}, set(given))

    def test_bare_fails_when_it_cannot_hold_its_rate(self):
        stub = StubApi(delay=0.4)
        self.addCleanup(stub.close)
        row, details = self.run_scenario("bare", stub, LOADTEST_TOKENS="tok-a", WARM_RATE="40", WARM_DURATION="2s", WARM_VUS="1")
        self.assertLess(row["requests"], 80)
        self.assertIn("dropped_iterations", details["thresholds_failed"])
        self.assertIn("http_reqs", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)

    def test_dropped_iterations_fail_an_arrival_rate_run(self):
        stub = StubApi(delay=0.4)
        self.addCleanup(stub.close)
        # At most 4 VUs (WARM_VUS * 4) of 0.4 s requests hold 10 a second, not 40.
        row, details = self.run_scenario("warm", stub, WARM_RATE="40", WARM_WARMUP="1s", WARM_DURATION="2s", WARM_TOKENS="4", WARM_VUS="1")
        self.assertGreater(details["dropped_iterations"], 0)
        self.assertLess(row["requests"], 80)
        self.assertIn("dropped_iterations{scenario:warm}", details["thresholds_failed"])
        self.assertIn("http_reqs{measured:yes}", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)


@unittest.skipUnless(K6.exists(), f"{K6} is missing: run `make setup-loadtest`")
class DeployedRotationTest(unittest.TestCase):
    """Against a deployed API the issuer refuses rotations closer than
    JWKS_MAX_AGE_SECONDS + 5 s apart; the stub applies that rule."""

    def setUp(self):
        self.out = Path(tempfile.mkdtemp(prefix="tollgate-scenarios-"))
        self.addCleanup(shutil.rmtree, self.out, True)

    def rotate_against(self, stub, env):
        env = dict(env, ROTATION_RATE="5", ROTATION_VUS="2", BASE_URL=stub.url, LOADTEST_PASSWORD="pw", LOADTEST_ADMIN_PASSWORD="pw")
        return summary.details("stub", "rotation", k6.run_k6("rotation", "stub", env, out=self.out))

    def test_deployed_rotations_are_spaced_as_the_issuer_allows(self):
        jwks_max_age = 0  # the rule is then 5 s; the spacing adds the margin
        stub = StubApi(rotation_wait=jwks_max_age + tollgate_defaults.ISSUER_KEYSET_TTL_SECONDS)
        self.addCleanup(stub.close)
        # The keyset was rotated just before the run: the first rotation waits
        # too. (A 1 s margin instead of 10 keeps the test short.)
        with mock.patch.object(deployed, "ROTATION_MARGIN_SECONDS", 1):
            env = deployed.deployed_env("rotation", "smoke", jwks_max_age)
        self.assertEqual(env["ROTATION_SPACING_SECONDS"], "6")
        details = self.rotate_against(stub, env)
        self.assertEqual(details["thresholds_failed"], [], details)
        self.assertEqual(details["k6_exit_code"], 0)
        self.assertEqual(stub.of("refused"), [])
        self.assertEqual(len(stub.of("rotate")), 1)

    def test_the_local_spacing_would_be_refused_there(self):
        stub = StubApi(rotation_wait=tollgate_defaults.ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS + tollgate_defaults.ISSUER_KEYSET_TTL_SECONDS)
        self.addCleanup(stub.close)
        details = self.rotate_against(stub, dict(profiles.PROFILES["smoke"]["rotation"], ROTATIONS="1"))
        self.assertEqual(len(stub.of("refused")), 1)
        self.assertIn("checks", details["thresholds_failed"])
        self.assertNotEqual(details["k6_exit_code"], 0)


class DeployedSettingsTest(unittest.TestCase):
    def test_deployed_rotation_settings_follow_the_issuers_rule(self):
        for profile in profiles.PROFILES:
            for jwks_max_age in (0, 5, 300, 3600):
                env = deployed.deployed_env("rotation", profile, jwks_max_age)
                spacing = int(env["ROTATION_SPACING_SECONDS"])
                self.assertGreater(spacing, jwks_max_age + tollgate_defaults.ISSUER_KEYSET_TTL_SECONDS)
                self.assertIn(int(env["ROTATIONS"]), (1, 2))
                # The runner outwaits the rotator's maxDuration, (ROTATIONS + 2) spacings.
                rotator = (int(env["ROTATIONS"]) + 2) * spacing
                self.assertGreater(k6.k6_timeout_seconds("rotation", env), rotator + 90)
        self.assertEqual(deployed.deployed_env("rotation", "full", 300)["ROTATION_SPACING_SECONDS"], "315")

    def test_deployed_cold_runs_have_time_for_each_forced_cold_start(self):
        for profile in profiles.PROFILES:
            env = deployed.deployed_env("cold", profile, None)
            iterations = int(env["COLD_ITERATIONS"])
            longest = k6.duration_seconds(env["COLD_MAX_DURATION"])
            self.assertEqual(longest, iterations * deployed.DEPLOYED_COLD_SECONDS_PER_ITERATION)
            self.assertGreater(k6.k6_timeout_seconds("cold", env), longest + 90)
            self.assertEqual({k: v for k, v in env.items() if k != "COLD_MAX_DURATION"}, profiles.PROFILES[profile]["cold"])

    def test_warm_and_local_mode_keep_the_profiles(self):
        for profile in profiles.PROFILES:
            self.assertEqual(deployed.deployed_env("warm", profile, 300), profiles.PROFILES[profile]["warm"])
            self.assertNotIn("COLD_MAX_DURATION", profiles.PROFILES[profile]["cold"])
        self.assertEqual(profiles.PROFILES["smoke"]["rotation"]["ROTATION_SPACING_SECONDS"], "2")
        self.assertEqual(profiles.PROFILES["full"]["rotation"]["ROTATIONS"], "4")

    def test_deployed_revocation_waits_out_the_lists_and_the_gateways_cache(self):
        env = deployed.deployed_revocation_env({"STATUS_LIST_MAX_AGE_SECONDS": "30", "AUTHORIZER_CACHE_TTL_SECONDS": "60"}, "tollgate", "smoke")
        self.assertEqual(env["REVOCATION_BOUND_SECONDS"], "91")
        self.assertNotIn("REVOCATION_ENFORCED", env)
        traffic = k6.duration_seconds(env["REVOCATION_DURATION"])
        self.assertGreater(traffic, int(env["REVOKE_AT_SECONDS"]) + 91)
        self.assertGreater(k6.k6_timeout_seconds("revocation", env), traffic + 90)
        # Nothing set: the issuer's 60 s and Terraform's 300 s.
        self.assertEqual(deployed.deployed_revocation_env({}, "tollgate", "full")["REVOCATION_BOUND_SECONDS"], "361")

    def test_dpop_is_left_out_against_a_deployed_api(self):
        # infra/ deploys a TOKEN authorizer with DPOP_MODE=off.
        self.assertEqual(deployed.DEPLOYED_SCENARIOS, tuple(s for s in profiles.SCENARIOS if s != "dpop"))
        with mock.patch.dict("os.environ", {"LOADTEST_SCENARIOS": "warm dpop"}):
            with self.assertRaises(SystemExit) as raised:
                deployed.run_deployed("smoke")
        self.assertIn("not dpop", str(raised.exception))

    def test_the_jwks_max_age_comes_from_the_environment_or_the_issuers_default(self):
        self.assertEqual(deployed.deployed_jwks_max_age({}), 300)
        self.assertEqual(deployed.deployed_jwks_max_age({"JWKS_MAX_AGE_SECONDS": "60"}), 60)
        self.assertEqual(deployed.deployed_jwks_max_age({"JWKS_MAX_AGE_SECONDS": ""}), 300)


class TimeLimitTest(unittest.TestCase):
    def test_durations_read_as_k6_reads_them(self):
        self.assertEqual(k6.duration_seconds("2s"), 2)
        self.assertEqual(k6.duration_seconds("1m30s"), 90)
        self.assertEqual(k6.duration_seconds("500ms"), 0.5)
        self.assertEqual(k6.duration_seconds("1h"), 3600)
        self.assertEqual(k6.duration_seconds("45"), 45)
        for bad in ("", "5x", "1m junk", "s"):
            with self.assertRaises(ValueError, msg=bad):
                k6.duration_seconds(bad)

    def test_the_runner_outwaits_every_scenario_by_k6s_own_allowances(self):
        # setup() may take 60 s and gracefulStop 30 s past the scenario's
        # end; handleSummary gets at least 30 s more.
        for name, profile in profiles.PROFILES.items():
            for scenario in profiles.SCENARIOS:
                env = profile[scenario]
                longest = k6.scenario_seconds(scenario, env)
                self.assertGreaterEqual(k6.k6_timeout_seconds(scenario, env), longest + 90 + 30, (name, scenario))

    def test_scenario_lengths_follow_the_scripts(self):
        # runner/k6.py repeats the scripts' defaults to size its timeout: read
        # them from the scripts, so that changing one there fails here.
        scripts = SCENARIO_SCRIPTS

        def default(script, name):
            text = (scripts / script).read_text(encoding="utf-8")
            found = re.search(rf"__ENV\.{name} \|\| '([^']+)'", text) or re.search(rf"envInt\('{name}', (\d+)\)", text)
            self.assertIsNotNone(found, f"{script}: no default for {name}")
            return found.group(1)

        seconds = k6.duration_seconds
        self.assertEqual(k6.scenario_seconds("cold", {}), seconds(default("cold.js", "COLD_MAX_DURATION")))
        self.assertEqual(
            k6.scenario_seconds("warm", {}),
            seconds(default("warm.js", "WARM_WARMUP")) + seconds(default("warm.js", "WARM_DURATION")),
        )
        rotations, spacing = default("rotation.js", "ROTATIONS"), default("rotation.js", "ROTATION_SPACING_SECONDS")
        self.assertEqual(k6.scenario_seconds("rotation", {}), (int(rotations) + 2) * int(spacing))
        # revocation.js: the traffic, or the revoker's maxDuration (REVOKE_AT_SECONDS + 30 s).
        traffic, revoke_at = default("revocation.js", "REVOCATION_DURATION"), default("revocation.js", "REVOKE_AT_SECONDS")
        self.assertEqual(k6.scenario_seconds("revocation", {}), max(seconds(traffic), int(revoke_at) + 30))
        self.assertEqual(k6.scenario_seconds("cold", {"COLD_MAX_DURATION": "10m"}), 600)
        self.assertEqual(k6.scenario_seconds("warm", {"WARM_WARMUP": "5s", "WARM_DURATION": "30s"}), 35)
        self.assertEqual(k6.scenario_seconds("dpop", {}), seconds(default("dpop.js", "DPOP_DURATION")))
        # rotation.js: the rotator's maxDuration, (ROTATIONS + 2) spacings.
        self.assertEqual(k6.scenario_seconds("rotation", {"ROTATIONS": "4", "ROTATION_SPACING_SECONDS": "10"}), 60)
        self.assertEqual(k6.scenario_seconds("dpop", {"DPOP_DURATION": "20s"}), 20)


if __name__ == "__main__":
    unittest.main()
