"""Forcing a cold start of a deployed Lambda function, as published
benchmarks do: update the function's configuration with a fresh nonce
variable (keeping every other variable), wait until the update is done
(LastUpdateStatus Successful), then call. Lambda retires every instance of
the old configuration, so the next invocation starts a new one.

ColdStartHook serves this on a loopback URL, so the k6 cold scenario can ask
for a cold start before each measured request (COLD_START_HOOK). Closing it
removes the nonce variable again, so the function's configuration is back to
what Terraform applied (no drift).
"""

import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

NONCE_VARIABLE = "LOADTEST_COLD_START_NONCE"


class UpdateFailed(RuntimeError):
    pass


def force_cold_start(client, function_name, timeout_seconds=120.0, poll_seconds=1.0):
    """Sets a new nonce and waits for the update; returns the nonce."""
    nonce = uuid.uuid4().hex
    update_variables(client, function_name, lambda variables: {**variables, NONCE_VARIABLE: nonce}, timeout_seconds, poll_seconds)
    return nonce


def remove_nonce(client, function_name, timeout_seconds=120.0, poll_seconds=1.0):
    """Removes the nonce variable (if set), keeping every other variable, and
    waits for the update. Returns whether there was one to remove."""
    return update_variables(
        client,
        function_name,
        lambda variables: {k: v for k, v in variables.items() if k != NONCE_VARIABLE},
        timeout_seconds,
        poll_seconds,
    )


def update_variables(client, function_name, change, timeout_seconds, poll_seconds):
    """Applies `change` to the function's environment variables and waits
    until the update is done; returns False (and updates nothing) when
    `change` leaves them as they are."""
    config = client.get_function_configuration(FunctionName=function_name)
    variables = dict((config.get("Environment") or {}).get("Variables") or {})
    changed = change(variables)
    if changed == variables:
        return False
    client.update_function_configuration(FunctionName=function_name, Environment={"Variables": changed})
    deadline = time.monotonic() + timeout_seconds
    while True:
        config = client.get_function_configuration(FunctionName=function_name)
        status = config.get("LastUpdateStatus", "Successful")
        if status == "Successful":
            return True
        if status == "Failed":
            raise UpdateFailed(f"{function_name}: {config.get('LastUpdateStatusReason', 'update failed')}")
        if time.monotonic() >= deadline:
            raise UpdateFailed(f"{function_name}: still {status} after {timeout_seconds:.0f}s")
        time.sleep(poll_seconds)


class ColdStartHook:
    """`POST {url}` forces a cold start of `function_name` and answers 204 (500 if it failed)."""

    def __init__(self, function_name, client=None):
        client = client or boto3.client("lambda")
        self.client, self.function_name = client, function_name

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                try:
                    force_cold_start(client, function_name)
                    self.send_response(204)
                except Exception as error:  # reported to k6 as a failed check
                    self.send_response(500)
                    self.log_message("cold start not forced: %s", error)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                if args and str(args[0]).startswith("cold start"):
                    super().log_message(format, *args)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cold-start"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        """Stops serving, then takes the nonce variable off the function."""
        self.server.shutdown()
        self.server.server_close()
        try:
            remove_nonce(self.client, self.function_name)
        except self.client.exceptions.ResourceNotFoundException:
            pass  # no function, no variable to remove
        except Exception as error:  # the run's own outcome matters more
            print(
                f"[loadtest] {NONCE_VARIABLE} left on {self.function_name} ({error}); "
                "the next terraform apply removes it",
                file=sys.stderr,
            )
