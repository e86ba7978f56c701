"""A local stack: `tollgate serve` in its own process group on a free
loopback port, its data directory and log in a scratch directory."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .tollgate_defaults import ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS

# The gateway's Lambda mode for the measured authorizers.
LAMBDA_MAX_INSTANCES = "4"
# The dpop scenario's: one instance. Both authorizers remember used DPoP
# proofs in their process's memory (Tollgate without DPOP_REPLAY_TABLE, the
# PyJWT reference always), so a proof replayed at another instance would
# pass; with one, every replay meets the memory of its first use.
DPOP_LAMBDA_MAX_INSTANCES = "1"
LAMBDA_TIMEOUT_MS = "10000"
STACK_START_SECONDS = 30


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStack:
    """`tollgate serve` in its own process group on a free loopback port;
    its authorizer is `command` run as a Lambda function, or in process
    when `command` is None."""

    def __init__(self, tollgate, command, scenario, jwks_max_age, status_list_max_age, authorizer_cache_ttl=0,
                 port=None, extra_args=(), extra_env=None):
        self.data = Path(tempfile.mkdtemp(prefix="tollgate-loadtest-"))
        self.url = f"http://127.0.0.1:{port or free_port()}"
        # The suite measures authorizers: its gateway caches no answers (TTL 0)
        # unless a caller (stack_cost.py) asks for one.
        args = [
            str(tollgate), "--data-dir", str(self.data), "serve",
            "--addr", self.url.removeprefix("http://"),
            "--authorizer-cache-ttl", str(authorizer_cache_ttl),
        ]
        if command is not None:
            args += [
                "--authorizer-command", command,
                "--lambda-max-instances", DPOP_LAMBDA_MAX_INSTANCES if scenario == "dpop" else LAMBDA_MAX_INSTANCES,
                "--lambda-timeout-ms", LAMBDA_TIMEOUT_MS,
            ]
        if scenario == "cold":
            args.append("--lambda-fresh-instances")
        args += list(extra_args)
        env = dict(os.environ, RUST_LOG=os.environ.get("LOADTEST_RUST_LOG", "warn"))
        # Short JWKS lifetimes for the rotation scenario only; the others keep the issuer's default.
        env["JWKS_MAX_AGE_SECONDS"] = jwks_max_age if scenario == "rotation" else str(ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS)
        # The issuer's lists say it (ttl, Cache-Control), and the functions get it too.
        env["STATUS_LIST_MAX_AGE_SECONDS"] = str(status_list_max_age)
        env.update(extra_env or {})
        self.log = open(self.data / "serve.log", "w+")
        self.process = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self):
        deadline = time.monotonic() + STACK_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tollgate serve exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200 and (self.data / "credentials").exists():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"tollgate serve did not answer in {STACK_START_SECONDS}s: {self.tail()}")

    def credentials(self):
        lines = (self.data / "credentials").read_text().splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def tail(self, limit=4000):
        """The log's last `limit` characters (None: all of it)."""
        self.log.flush()
        self.log.seek(0)
        text = self.log.read()
        return text if limit is None else text[-limit:]

    def stop(self):
        """SIGTERM to the whole group (gateway and function instances), then SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)
