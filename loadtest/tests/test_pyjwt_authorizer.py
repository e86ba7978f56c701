"""The PyJWT reference authorizer refuses what Tollgate refuses and answers
the same policy shape, so the load test compares like with like: tokens,
and DPoP proofs check by check. Runs the handler in-process against a JWKS
served on loopback, with REST REQUEST events as the local gateway sends
them."""

import importlib
import json
import re
import uuid
import warnings
import os
import sys
import threading
import time
import unittest
from unittest import mock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "loadtest" / "pyjwt_authorizer"))
import dpop  # noqa: E402  (loadtest/pyjwt_authorizer/dpop.py)

ISSUER = "http://127.0.0.1:1"
API = "arn:aws:execute-api:local:000000000000:tollgate/local"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "test-kid"
# Where the local gateway answers: the event's domainName, and the base URL
# the stack passes in DPOP_PUBLIC_BASE_URLS.
DOMAIN = "127.0.0.1:8080"
BASE_URL = f"http://{DOMAIN}"
DPOP_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_DPOP_KEY = ec.generate_private_key(ec.SECP256R1())


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


def public_jwk(private_key):
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return ECAlgorithm.to_jwk(public, as_dict=True)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return OKPAlgorithm.to_jwk(public, as_dict=True)
    return RSAAlgorithm.to_jwk(public, as_dict=True)


def bound_to(private_key):
    """A token's `cnf` for a DPoP key."""
    return {"jkt": dpop.thumbprint(public_jwk(private_key))}


def proof(access_token, key=DPOP_KEY, alg="ES256", header=None, **overrides):
    """A DPoP proof of `key` for GET /books at the stack, with `ath`."""
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": f"{BASE_URL}/books", "iat": int(time.time()), "ath": dpop.access_token_hash(access_token)}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    fields = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
    fields.update(header or {})
    return jwt.encode(claims, key, algorithm=alg, headers={k: v for k, v in fields.items() if v is not None})


def request_event(authorization=None, proofs=(), method="GET", path="/books", arn=f"{API}/GET/books"):
    """A REST REQUEST event as the local gateway builds it (src/gateway/authorize.rs)."""
    headers, multi = {"host": DOMAIN}, {"host": [DOMAIN]}
    if authorization is not None:
        headers["authorization"], multi["authorization"] = authorization, [authorization]
    if proofs:
        headers["dpop"], multi["dpop"] = proofs[-1], list(proofs)
    return {
        "type": "REQUEST", "methodArn": arn, "resource": path, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": multi, "queryStringParameters": {"limit": "1"},
        "requestContext": {"path": path, "stage": "local", "httpMethod": method, "domainName": DOMAIN},
    }


def token(key=KEY, headers=None, **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "books-api", "sub": "demo", "iat": now, "exp": now + 300, "scope": "books:read"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"kid": KID, "typ": "at+jwt"}
    header.update(headers or {})
    return jwt.encode(claims, key, algorithm="RS256", headers=header)


JWKS_SERVER = None
AUTHORIZER = None


def setUpModule():
    global JWKS_SERVER, AUTHORIZER
    JWKS_SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=JWKS_SERVER.serve_forever, daemon=True).start()
    os.environ.update(
        JWT_ISSUER=ISSUER,
        JWKS_URI=f"http://127.0.0.1:{JWKS_SERVER.server_address[1]}/.well-known/jwks.json",
        JWT_AUDIENCE="books-api",
        JWT_REQUIRED_TYP="at+jwt",
        DPOP_PUBLIC_BASE_URLS=json.dumps([BASE_URL + "/"]),
    )
    AUTHORIZER = importlib.import_module("authorizer")


def tearDownModule():
    JWKS_SERVER.shutdown()
    JWKS_SERVER.server_close()


class AuthorizerTestCase(unittest.TestCase):
    def handle(self, event):
        return AUTHORIZER.handler(event, None)

    def refused_event(self, event, msg=None):
        with self.assertRaises(Exception, msg=msg) as raised:
            self.handle(event)
        self.assertEqual(str(raised.exception), "Unauthorized", msg)


class PyJwtAuthorizerTest(AuthorizerTestCase):
    def answer(self, authorization, arn=f"{API}/GET/books"):
        return self.handle(request_event(authorization, arn=arn))

    def refused(self, authorization):
        self.refused_event(request_event(authorization), authorization)

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

    def test_a_route_with_a_parameter_is_never_allowed(self):
        # The reference evaluates no route rules, so a reader must not get
        # every owner's shelf.
        allow, deny = self.answer("Bearer " + token())["policyDocument"]["Statement"]
        self.assertNotIn(f"{API}/GET/shelves/*/books", allow["Resource"])
        self.assertIn(f"{API}/GET/shelves/*/books", deny["Resource"])

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

    def test_a_rest_request_event_gives_its_authorization_header_in_any_case(self):
        bearer = "Bearer " + token()
        for headers, multi in (
            ({"authorization": bearer}, {}),
            ({"Authorization": bearer}, {"Authorization": [bearer]}),
            ({}, {"AUTHORIZATION": [bearer]}),
        ):
            event = {"type": "REQUEST", "methodArn": f"{API}/GET/books", "headers": headers, "multiValueHeaders": multi}
            self.assertEqual(self.handle(event)["principalId"], "demo", headers or multi)
        self.refused_event({"type": "REQUEST", "methodArn": f"{API}/GET/books", "headers": {"Host": "x"}})

    def test_a_token_event_only_with_dpop_off(self):
        """A TOKEN event carries no proof: with DPoP on, a misconfiguration
        (the gateway's 500, not a 401), as Tollgate has it."""
        event = {"type": "TOKEN", "authorizationToken": "Bearer " + token(), "methodArn": f"{API}/GET/books"}
        with self.assertRaises(RuntimeError) as raised:
            self.handle(event)
        self.assertIn("DPoP", str(raised.exception))
        with mock.patch.object(AUTHORIZER, "DPOP_MODE", "off"):
            self.assertEqual(self.handle(event)["principalId"], "demo")


class DpopTest(AuthorizerTestCase):
    """RFC 9449 at the reference, each check on its own: a bound token
    (cnf.jkt) with the DPoP scheme and one fresh proof of its key."""

    def setUp(self):
        self.token = token(cnf=bound_to(DPOP_KEY))

    def dpop_event(self, proofs=None, scheme="DPoP", access_token=None, **request):
        access_token = access_token or self.token
        proofs = [proof(access_token)] if proofs is None else proofs
        return request_event(f"{scheme} {access_token}", proofs, **request)

    def accepted(self, event, msg=None):
        self.assertEqual(self.handle(event)["principalId"], "demo", msg)

    def test_a_fresh_proof_lets_a_bound_token_through_once(self):
        event = self.dpop_event()
        self.accepted(event)
        self.refused_event(event, "the same proof again: a replay")
        self.accepted(self.dpop_event(), "a new proof of the same key")
        self.accepted(self.dpop_event(scheme="dpop"), "the scheme is case-insensitive")

    def test_a_bound_token_needs_the_dpop_scheme_and_exactly_one_proof(self):
        self.refused_event(self.dpop_event(scheme="Bearer"), "a bound token as Bearer, even with a proof")
        self.refused_event(self.dpop_event(proofs=[]), "no proof")
        self.refused_event(self.dpop_event(proofs=[proof(self.token), proof(self.token)]), "two DPoP headers")
        joined = request_event(f"DPoP {self.token}")
        joined["headers"]["DPoP"] = proof(self.token) + ", " + proof(self.token)
        self.refused_event(joined, "two proofs joined with a comma")

    def test_the_proof_header_and_signature(self):
        for header, why in (
            ({"typ": "JWT"}, "typ"),
            ({"typ": None}, "no typ"),
            ({"jwk": None}, "no jwk"),
            ({"jwk": ECAlgorithm.to_jwk(DPOP_KEY, as_dict=True)}, "the private key itself (d) as the jwk"),
            ({"jwk": public_jwk(OTHER_DPOP_KEY)}, "signed by another key than its jwk"),
            ({"crit": ["exp"]}, "a critical extension"),
        ):
            self.refused_event(self.dpop_event([proof(self.token, header=header)]), why)
        self.accepted(self.dpop_event([proof(self.token, header={"typ": "application/dpop+jwt"})]))
        hs256 = jwt.encode({"jti": "j", "htm": "GET", "htu": f"{BASE_URL}/books", "iat": int(time.time())}, "k" * 32, algorithm="HS256", headers={"typ": "dpop+jwt", "jwk": public_jwk(DPOP_KEY)})
        self.refused_event(self.dpop_event([hs256]), "a symmetric alg")
        p384 = ec.generate_private_key(ec.SECP384R1())
        p384_token = token(cnf=bound_to(p384))
        self.refused_event(self.dpop_event([proof(p384_token, key=p384, alg="ES384")], access_token=p384_token), "ES384: not among the accepted algorithms")

    def test_every_accepted_algorithm_and_only_usable_keys(self):
        for key, alg in ((ed25519.Ed25519PrivateKey.generate(), "EdDSA"), (KEY, "RS256"), (KEY, "PS256")):
            bound = token(cnf=bound_to(key))
            self.accepted(self.dpop_event([proof(bound, key=key, alg=alg)], access_token=bound), alg)
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        bound = token(cnf=bound_to(small))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            small_proof = proof(bound, key=small, alg="RS256")
        self.refused_event(self.dpop_event([small_proof], access_token=bound), "an RSA key under 2048 bits")
        mismatched = dict(public_jwk(DPOP_KEY), crv="P-384")
        self.refused_event(self.dpop_event([proof(self.token, header={"jwk": mismatched})]), "a jwk of another curve than alg's")

    def test_htm_and_htu_name_this_request(self):
        self.refused_event(self.dpop_event([proof(self.token, htm="POST")]), "htm")
        for htu in (f"{BASE_URL}/books/1", "http://127.0.0.1:9999/books", f"{BASE_URL}/books?limit=1", f"{BASE_URL}/Books", "/books"):
            self.refused_event(self.dpop_event([proof(self.token, htu=htu)]), htu)
        # The request context's own domain and path, and equivalent spellings of the base URL's.
        for htu in (f"https://{DOMAIN}/books", "HTTP://127.0.0.1:8080/./books", f"{BASE_URL}/x/../%62ooks"):
            self.accepted(self.dpop_event([proof(self.token, htu=htu)]), htu)
        # Never the Host header's: the client sets it.
        event = self.dpop_event([proof(self.token, htu="http://evil.example/books")])
        event["headers"]["host"] = "evil.example"
        event["multiValueHeaders"]["host"] = ["evil.example"]
        self.refused_event(event, "htu from the Host header")

    def test_iat_within_the_max_age_and_the_skew(self):
        now = int(time.time())
        for iat in (now - 60, now + 3):
            self.accepted(self.dpop_event([proof(self.token, iat=iat)]), iat - now)
        for iat in (now - 120, now + 30, None, "yesterday"):
            self.refused_event(self.dpop_event([proof(self.token, iat=iat)]), iat)

    def test_ath_is_the_presented_tokens_hash(self):
        self.refused_event(self.dpop_event([proof(self.token, ath=None)]), "no ath")
        self.refused_event(self.dpop_event([proof(token(cnf=bound_to(DPOP_KEY), jti="another"))]), "another token's ath")

    def test_the_proofs_key_is_the_one_the_token_is_bound_to_and_a_refusal_uses_no_jti(self):
        other = token(cnf=bound_to(OTHER_DPOP_KEY))
        shown = proof(other)  # of DPOP_KEY, for `other`, bound to another key
        self.refused_event(self.dpop_event([shown], access_token=other), "the proof's key is not cnf.jkt")
        # The refused proof was not remembered: its own key's token takes it
        # (same jti) once its ath is that token's.
        claims = jwt.decode(shown, options={"verify_signature": False})
        self.accepted(self.dpop_event([proof(self.token, jti=claims["jti"])]))

    def test_the_dpop_scheme_needs_a_bound_token_and_required_mode_every_token(self):
        unbound = token()
        self.refused_event(request_event(f"DPoP {unbound}", [proof(unbound)]), "an unbound token as DPoP")
        self.accepted(request_event(f"Bearer {unbound}"), "if_bound: an unbound Bearer token")
        with mock.patch.object(AUTHORIZER, "DPOP_MODE", "required"):
            self.refused_event(request_event(f"Bearer {unbound}"), "required: an unbound token")
            self.accepted(self.dpop_event())
        with mock.patch.object(AUTHORIZER, "DPOP_MODE", "off"):
            self.accepted(request_event(f"Bearer {self.token}"), "off: a bound token is a bearer token")
        self.refused_event(request_event("Bearer " + token(cnf={"x5t#S256": "abc"})), "a certificate-bound token")
        self.refused_event(request_event("Bearer " + token(cnf={"jkt": 7})), "a jkt that is not a string")


class DpopPiecesTest(unittest.TestCase):
    """dpop.py's pieces against the RFCs' examples and Tollgate's tests (dpop/src/htu.rs)."""

    def test_the_rfc_7638_thumbprint_example(self):
        jwk = {
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        }
        self.assertEqual(dpop.thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")

    def test_ath_is_rfc_9449s_example(self):
        self.assertEqual(dpop.access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")

    def test_uris_normalize_as_tollgates_own_cases_say(self):
        """The cases of dpop/src/htu.rs's tests, read from it: the two
        implementations are held to the same list."""
        source = (ROOT / "dpop/src/htu.rs").read_text(encoding="utf-8")
        cases = {
            name: re.findall(r'"([^"]*)"', listed)
            for name, listed in re.findall(r"for (same|other|refused) in \[(.*?)\]", source, re.S)
        }
        self.assertEqual(sorted(cases), ["other", "refused", "same"])
        self.assertTrue(all(cases.values()), cases)
        canonical = dpop.normalize_uri("https://api.example.com/books/1")
        for same in cases["same"]:
            self.assertEqual(dpop.normalize_uri(same), canonical, same)
        for other in cases["other"] + ["https://api.example.com/books/1?"]:
            self.assertNotEqual(dpop.normalize_uri(other), canonical, other)
        for refused in cases["refused"]:
            self.assertIsNone(dpop.normalize_uri(refused), refused)
        self.assertEqual(dpop.normalize_uri("https://api.example.com"), "https://api.example.com/")
        self.assertEqual(dpop.normalize_uri("https://api.example.com/a%2fb"), dpop.normalize_uri("https://api.example.com/a%2Fb"))

    def test_the_replay_memory_refuses_rather_than_forgets(self):
        used = dpop.UsedProofs(capacity=2)
        self.assertTrue(used.first_use("a", 100, now=50))
        self.assertFalse(used.first_use("a", 100, now=60))
        self.assertTrue(used.first_use("b", 100, now=60))
        self.assertFalse(used.first_use("c", 100, now=60), "full of unexpired proofs")
        self.assertTrue(used.first_use("c", 300, now=200), "expired ones make room")
        self.assertTrue(used.first_use("a", 300, now=200), "an expired proof's key is free again")


if __name__ == "__main__":
    unittest.main()
