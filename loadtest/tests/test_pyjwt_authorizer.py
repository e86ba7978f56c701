"""The PyJWT reference authorizer refuses what Tollgate refuses and answers
the same policy shape, so the load test compares like with like. Runs the
handler in-process against a JWKS served on loopback."""

import importlib
import json
import os
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyjwt_authorizer"))

ISSUER = "http://127.0.0.1:1"
API = "arn:aws:execute-api:local:000000000000:tollgate/local"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "test-kid"


class Jwks(BaseHTTPRequestHandler):
    def do_GET(self):
        jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        jwk.update(kid=KID, alg="RS256", use="sig")
        body = json.dumps({"keys": [jwk]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def token(key=KEY, headers=None, **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "books-api", "sub": "demo", "iat": now, "exp": now + 300, "scope": "books:read"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"kid": KID, "typ": "at+jwt"}
    header.update(headers or {})
    return jwt.encode(claims, key, algorithm="RS256", headers=header)


class PyJwtAuthorizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        os.environ.update(
            JWT_ISSUER=ISSUER,
            JWKS_URI=f"http://127.0.0.1:{cls.server.server_address[1]}/.well-known/jwks.json",
            JWT_AUDIENCE="books-api",
            JWT_REQUIRED_TYP="at+jwt",
        )
        cls.authorizer = importlib.import_module("authorizer")

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def answer(self, authorization, arn=f"{API}/GET/books"):
        return self.authorizer.handler({"type": "TOKEN", "authorizationToken": authorization, "methodArn": arn}, None)

    def refused(self, authorization):
        with self.assertRaises(Exception) as raised:
            self.answer(authorization)
        self.assertEqual(str(raised.exception), "Unauthorized")

    def test_a_valid_token_gets_a_whole_api_policy(self):
        answer = self.answer("Bearer " + token())
        self.assertEqual(answer["principalId"], "demo")
        allow, deny = answer["policyDocument"]["Statement"]
        self.assertEqual(allow["Effect"], "Allow")
        self.assertEqual(sorted(allow["Resource"]), [f"{API}/GET/books", f"{API}/GET/books/*"])
        self.assertEqual(deny["Effect"], "Deny")
        self.assertIn(f"{API}/POST/books", deny["Resource"])
        self.assertEqual(answer["context"]["scope"], "books:read")
        self.assertEqual(answer["context"]["kid"], KID)

    def test_no_scope_is_one_deny_over_the_api(self):
        answer = self.answer("Bearer " + token(scope="profile"))
        self.assertEqual(answer["policyDocument"]["Statement"], [{"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": [f"{API}/*"]}])

    def test_refusals_are_unauthorized(self):
        self.refused("")
        self.refused("Basic " + token())
        self.refused("Bearer " + token() + " extra")
        self.refused("Bearer not.a.token")
        self.refused("Bearer " + token(key=OTHER_KEY))
        self.refused("Bearer " + token(aud="other-api"))
        self.refused("Bearer " + token(iss="https://evil.example"))
        self.refused("Bearer " + token(exp=int(time.time()) - 3600))
        self.refused("Bearer " + token(nbf=int(time.time()) + 3600))
        self.refused("Bearer " + token(sub=None))
        self.refused("Bearer " + token(headers={"typ": "JWT"}))
        self.refused("Bearer " + token(headers={"kid": "unknown"}))
        unsigned = jwt.encode({"iss": ISSUER, "aud": "books-api", "sub": "demo", "exp": int(time.time()) + 60}, None, algorithm="none", headers={"kid": KID, "typ": "at+jwt"})
        self.refused("Bearer " + unsigned)
        hs256 = jwt.encode({"iss": ISSUER, "aud": "books-api", "sub": "demo", "exp": int(time.time()) + 60}, "secret-key-of-thirty-two-bytes!!", algorithm="HS256", headers={"kid": KID, "typ": "at+jwt"})
        self.refused("Bearer " + hs256)

    def test_the_scheme_is_case_insensitive_and_typ_may_carry_the_media_prefix(self):
        self.assertIn("policyDocument", self.answer("bearer " + token(headers={"typ": "application/at+jwt"})))

    def test_a_rest_request_event_gives_its_authorization_header(self):
        """The local gateway sends REST REQUEST events (all headers)."""
        bearer = "Bearer " + token()
        for headers, multi in (
            ({"authorization": bearer}, {}),
            ({"Authorization": bearer}, {"Authorization": [bearer]}),
            ({}, {"AUTHORIZATION": [bearer]}),
        ):
            event = {"type": "REQUEST", "methodArn": f"{API}/GET/books", "headers": headers, "multiValueHeaders": multi}
            self.assertEqual(self.authorizer.handler(event, None)["principalId"], "demo", headers or multi)
        with self.assertRaises(Exception) as raised:
            self.authorizer.handler({"type": "REQUEST", "methodArn": f"{API}/GET/books", "headers": {"Host": "x"}}, None)
        self.assertEqual(str(raised.exception), "Unauthorized")


if __name__ == "__main__":
    unittest.main()
