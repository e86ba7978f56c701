"""Forcing cold starts on AWS (BASE_URL mode), and reading the issuer's
JWKS_MAX_AGE_SECONDS for the rotation scenario, against moto's Lambda API:
moto answers the configuration calls (it cannot invoke functions here)."""

import io
import os
import sys
import unittest
from unittest import mock
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from runner.deployed import deployed_jwks_max_age  # noqa: E402
from aws_cold_start import NONCE_VARIABLE, ColdStartHook, force_cold_start, remove_nonce  # noqa: E402

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL")


def bootstrap_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n")
    return buffer.getvalue()


class CountingUpdates:
    """A Lambda client that records its configuration updates."""

    def __init__(self, client, updates):
        self.client, self.updates = client, updates

    def update_function_configuration(self, **kwargs):
        self.updates.append(kwargs)
        return self.client.update_function_configuration(**kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


@unittest.skipUnless(ENDPOINT or os.environ.get("CI"), "AWS_ENDPOINT_URL unset: run under scripts/with-moto.sh")
class ForceColdStartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
        cls.client = session.client("lambda", endpoint_url=ENDPOINT)
        iam = session.client("iam", endpoint_url=ENDPOINT)
        role = iam.create_role(
            RoleName="loadtest-authorizer",
            AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
        )["Role"]["Arn"]
        cls.name = "tollgate-authorizer-loadtest"
        cls.issuer = "tollgate-issuer-loadtest"
        for name, variables in (
            (cls.name, {"JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "books-api"}),
            (cls.issuer, {"JWT_ISSUER": "https://issuer.example", "JWKS_MAX_AGE_SECONDS": "120"}),
        ):
            cls.client.create_function(
                FunctionName=name,
                Runtime="provided.al2023",
                Architectures=["arm64"],
                Handler="bootstrap",
                Role=role,
                Code={"ZipFile": bootstrap_zip()},
                Environment={"Variables": variables},
            )

    def variables(self):
        config = self.client.get_function_configuration(FunctionName=self.name)
        return config["Environment"]["Variables"], config.get("LastUpdateStatus")

    def test_a_nonce_is_set_keeping_the_other_variables(self):
        first = force_cold_start(self.client, self.name, poll_seconds=0.1)
        variables, status = self.variables()
        self.assertEqual(variables[NONCE_VARIABLE], first)
        self.assertEqual(variables["JWT_ISSUER"], "https://issuer.example")
        self.assertEqual(variables["JWT_AUDIENCE"], "books-api")
        self.assertEqual(status, "Successful")
        second = force_cold_start(self.client, self.name, poll_seconds=0.1)
        self.assertNotEqual(first, second)
        self.assertEqual(self.variables()[0][NONCE_VARIABLE], second)

    def test_the_hook_forces_a_cold_start_per_post(self):
        hook = ColdStartHook(self.name, client=self.client)
        try:
            before = self.variables()[0][NONCE_VARIABLE] if NONCE_VARIABLE in self.variables()[0] else None
            request = urllib.request.Request(hook.url, method="POST", data=b"")
            with urllib.request.urlopen(request, timeout=30) as response:
                self.assertEqual(response.status, 204)
            self.assertNotEqual(self.variables()[0][NONCE_VARIABLE], before)
        finally:
            hook.close()

    def test_closing_the_hook_removes_the_nonce_keeping_the_other_variables(self):
        hook = ColdStartHook(self.name, client=self.client)
        request = urllib.request.Request(hook.url, method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            self.assertEqual(response.status, 204)
        self.assertIn(NONCE_VARIABLE, self.variables()[0])
        hook.close()
        variables, status = self.variables()
        self.assertEqual(variables, {"JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "books-api"})
        self.assertEqual(status, "Successful")

    def test_a_failed_clean_up_does_not_hide_the_runs_outcome(self):
        """close() runs in a finally: a failing update (k6 killed mid-update,
        a conflict) is reported, not raised over the run's own result."""
        hook = ColdStartHook(self.name, client=self.client)

        def conflicting(*args, **kwargs):
            raise TimeoutError("the function is still updating")

        with mock.patch("aws_cold_start.remove_nonce", conflicting), mock.patch("sys.stderr", io.StringIO()) as stderr:
            hook.close()
        self.assertIn(NONCE_VARIABLE, stderr.getvalue())

    def test_removing_no_nonce_updates_nothing(self):
        remove_nonce(self.client, self.name, poll_seconds=0.1)
        updates = []
        client = CountingUpdates(self.client, updates)
        self.assertFalse(remove_nonce(client, self.name, poll_seconds=0.1))
        self.assertEqual(updates, [])
        force_cold_start(client, self.name, poll_seconds=0.1)
        self.assertTrue(remove_nonce(client, self.name, poll_seconds=0.1))
        self.assertEqual(len(updates), 2)

    def test_the_rotation_reads_the_jwks_max_age_from_the_issuer_function(self):
        read = deployed_jwks_max_age
        self.assertEqual(read({"ISSUER_FUNCTION_NAME": self.issuer}, lambda_client=self.client), 120)
        # The function's configuration is what the issuer runs with: it wins.
        self.assertEqual(read({"ISSUER_FUNCTION_NAME": self.issuer, "JWKS_MAX_AGE_SECONDS": "5"}, lambda_client=self.client), 120)
        # A function without the variable runs with the issuer's default.
        self.assertEqual(read({"ISSUER_FUNCTION_NAME": self.name}, lambda_client=self.client), 300)

    def test_an_unknown_function_is_a_500_from_the_hook(self):
        hook = ColdStartHook("no-such-function", client=self.client)
        try:
            request = urllib.request.Request(hook.url, method="POST", data=b"")
            with self.assertRaises(urllib.error.HTTPError) as raised:
                urllib.request.urlopen(request, timeout=30)
            self.assertEqual(raised.exception.code, 500)
        finally:
            hook.close()


if __name__ == "__main__":
    unittest.main()
