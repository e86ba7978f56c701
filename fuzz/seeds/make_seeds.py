#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ seeds from the tests' own inputs.

Each seed is an input one of Tollgate's tests feeds a parser (the file that
holds it is named beside it), in the target's input format: most targets
read a mode byte first (0: the rest is raw input), see fuzz_targets/*.rs.
Tokens, status list tokens and proofs are signed here with the fuzz
harness's fixed keys (fuzz/src/keys.rs) and expire in 2100, so that the
fuzzer starts past the signature. Structured targets also get all-zero
inputs, which decode to "every part good".

Run: python3 fuzz/seeds/make_seeds.py (needs the `cryptography` package).
"""
import base64
import hashlib
import json
import pathlib
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ROOT = pathlib.Path(__file__).resolve().parents[1] / "corpus"
ISSUER = "https://issuer.fuzz.test"
AUDIENCE = "books-api"
EXP = 4102444800  # 2100-01-01
NOW = 1764900000
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/books/42"

ED = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([0x11] * 32))
CLIENT = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([0x22] * 32))
ES = serialization.load_der_private_key(bytes.fromhex(
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420fa1f49b9b5600dc24b1df47f3a496518e9b4191686d11e28375e23229763a806a14403420004d1f7141a94f6b438db845471289462b9a2657c0568f3e6391958df8fc3650bc614464d5c65383d0abb31874e5f437b73a44363a9f58d5e462ed7d48811c84a2a"
), None)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def text(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def sign(header, claims, key=ED):
    signing_input = f"{b64(text(header))}.{b64(text(claims))}".encode()
    if key is ES:
        r, s = decode_dss_signature(ES.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input)
    return f"{signing_input.decode()}.{b64(signature)}"


def raw_public(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def es_point():
    return ES.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


CLIENT_JWK = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw_public(CLIENT))}
CLIENT_JKT = b64(hashlib.sha256(text({"crv": "Ed25519", "kty": "OKP", "x": CLIENT_JWK["x"]}).encode()).digest())
ED_JWK = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw_public(ED)), "kid": "fuzz-ed", "use": "sig", "alg": "EdDSA"}
ES_JWK = {"kty": "EC", "crv": "P-256", "x": b64(es_point()[1:33]), "y": b64(es_point()[33:]), "kid": "fuzz-es", "use": "sig", "alg": "ES256"}
RSA_JWK = {"kty": "RSA", "kid": "2011-04-29", "alg": "RS256", "e": "AQAB",
           "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}

HEADER = {"alg": "EdDSA", "kid": "fuzz-ed", "typ": "at+jwt"}
CLAIMS = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "exp": EXP, "iat": NOW, "nbf": NOW,
          "auth_time": NOW, "jti": "01JD7Q2Z6W4N8M5K3H1G0F9E8D", "client_id": "books-web-7f3a9c2e",
          "scope": "books:read books:write"}


def claims(**changes):
    out = dict(CLAIMS)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def write(target, name, data):
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (directory / name).write_bytes(data)


def structured(target, sizes=(16, 64, 256)):
    for size in sizes:
        write(target, f"zeros-{size}", b"\x01" + bytes(size))


GOOD = sign(HEADER, CLAIMS)
GOOD_ES = sign({"alg": "ES256", "kid": "fuzz-es", "typ": "at+jwt"}, CLAIMS, ES)
DPOP_BOUND = sign(HEADER, claims(cnf={"jkt": CLIENT_JKT}))

# credential: authorizer/src/events.rs tests' header values.
for i, value in enumerate(["Bearer a.b.c", "bearer a.b.c", "BEARER   a.b.c", "Bearer a+b/c~d_e-f.g==",
                           "a.b.c", "Bearer a.b.c ", "Bearer a.b.c extra", "Bearer\ta.b.c", " Bearer a.b.c",
                           "Bearera.b.c", "Bearer =", "Bearer a=b", "Bearer a,b", "Token a.b.c", "Bearer",
                           "Basic dXNlcjpwYXNz", "DPoP tok", f"Bearer {GOOD}", f"DPoP {DPOP_BOUND}"]):
    write("credential", f"events-rs-{i:02}", value)

# token_raw: authorizer/tests/forged_tokens.rs' cases, signed with the fixed keys.
cases = {
    "good-eddsa": GOOD,
    "good-es256": GOOD_ES,
    "good-es-noalg-kid": sign({"alg": "ES256", "kid": "fuzz-es-noalg"}, CLAIMS, ES),
    "alg-none": f"{b64(text({'alg': 'none', 'kid': 'fuzz-ed'}))}.{b64(text(CLAIMS))}.",
    "alg-hs256": sign({"alg": "HS256", "kid": "fuzz-ed"}, CLAIMS),
    "alg-mismatch": sign({"alg": "ES256", "kid": "fuzz-ed"}, CLAIMS),
    "rsa-kid": sign({"alg": "RS256", "kid": "fuzz-rsa"}, CLAIMS),
    "unknown-kid": sign({"alg": "EdDSA", "kid": "nobody"}, CLAIMS),
    "no-kid": sign({"alg": "EdDSA"}, CLAIMS),
    "crit": sign({"alg": "EdDSA", "kid": "fuzz-ed", "crit": ["exp"]}, CLAIMS),
    "crit-null": sign({"alg": "EdDSA", "kid": "fuzz-ed", "crit": None}, CLAIMS),
    "jku": sign({"alg": "EdDSA", "kid": "fuzz-ed", "jku": "https://attacker.example/jwks.json"}, CLAIMS),
    "jwk-header": sign({"alg": "EdDSA", "kid": "fuzz-ed", "jwk": CLIENT_JWK}, CLAIMS, CLIENT),
    "header-array": sign('["EdDSA","fuzz-ed",null]', CLAIMS),
    "claims-array": sign(HEADER, json.dumps([ISSUER, "alice"])),
    "iss-array": sign(HEADER, claims(iss=[ISSUER])),
    "wrong-aud": sign(HEADER, claims(aud="other-api")),
    "aud-array": sign(HEADER, claims(aud=["a", AUDIENCE])),
    "no-aud-client-id": sign(HEADER, claims(aud=None, client_id=AUDIENCE)),
    "expired": sign(HEADER, claims(exp=NOW - 120)),
    "nbf-future": sign(HEADER, claims(nbf=EXP)),
    "string-exp": sign(HEADER, claims(exp=str(EXP))),
    "float-exp": sign(HEADER, claims(exp=float(EXP))),
    "no-sub": sign(HEADER, claims(sub=None)),
    "empty-sub": sign(HEADER, claims(sub="")),
    "token-use-id": sign(HEADER, claims(token_use="id")),
    "duplicate-iss": sign(HEADER, text(CLAIMS)[:-1] + ',"iss":"https://evil.example"}'),
    "status": sign(HEADER, claims(status={"status_list": {"idx": 3, "uri": ISSUER + "/statuslists/1"}})),
    "cnf": DPOP_BOUND,
    "cnf-unknown": sign(HEADER, claims(cnf={"jwk": CLIENT_JWK})),
    "scp-array": sign(HEADER, claims(scope=None, scp=["books:read", "keys:admin"])),
}
for name, token in cases.items():
    write("token_raw", f"forged-tokens-rs-{name}", token)
structured("token")

# jwks: authorizer/tests/jwk_parsing.rs' documents and keys.
documents = {
    "fixed": {"keys": [ED_JWK, ES_JWK, dict(ES_JWK, kid="fuzz-es-noalg", alg=None), RSA_JWK]},
    "mixed": {"keys": [ED_JWK, dict(ES_JWK, use="enc"), dict(RSA_JWK, kid="twin"), dict(ED_JWK, kid="twin"), {"kty": "weird"}, 42]},
    "private": {"keys": [dict(ED_JWK, d=b64(bytes([7] * 32)))]},
    "weak-rsa": {"keys": [{"kty": "RSA", "kid": "w", "n": b64(bytes([0xC5] * 128)), "e": "AQAB"}]},
    "padded": {"keys": [dict(ES_JWK, x=ES_JWK["x"] + "=")]},
    "key-ops": {"keys": [dict(ED_JWK, key_ops=["verify"]), dict(ES_JWK, key_ops=["encrypt"])]},
    "empty": {"keys": []},
}
for name, document in documents.items():
    write("jwks", f"jwk-parsing-rs-set-{name}", b"\x00" + text(document).encode())
for name, jwk in {"ed": ED_JWK, "es": ES_JWK, "rsa": RSA_JWK, "es-secp256k1": dict(ES_JWK, crv="secp256k1"),
                  "hs": dict(ED_JWK, alg="HS256"), "oct": {"kty": "oct", "kid": "k", "k": "AAAA"}}.items():
    write("jwks", f"jwk-parsing-rs-key-{name}", b"\x01" + text(jwk).encode())
write("jwks", "dpop-client-jwk-eddsa", b"\x02\x08" + text(CLIENT_JWK).encode())
write("jwks", "dpop-client-jwk-es256", b"\x02\x06" + text({k: v for k, v in ES_JWK.items() if k in ("kty", "crv", "x", "y")}).encode())

# discovery: the issuer's own document (issuer/src/routes/oauth.rs) and the IdPs' shapes.
for name, (which, document) in {
    "tollgate": (0, {"issuer": ISSUER, "jwks_uri": ISSUER + "/.well-known/jwks.json", "token_endpoint": ISSUER + "/token",
                     "grant_types_supported": ["password", "client_credentials"]}),
    "entra": (1, {"issuer": "https://login.example.com/tenant/v2.0", "jwks_uri": "https://login.example.com/tenant/discovery/v2.0/keys"}),
    "loopback": (2, {"issuer": "http://127.0.0.1:8080", "jwks_uri": "http://127.0.0.1:8080/.well-known/jwks.json"}),
    "http-elsewhere": (0, {"issuer": ISSUER, "jwks_uri": "http://issuer.fuzz.test/jwks"}),
    "other-issuer": (0, {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}),
}.items():
    write("discovery", f"identity-providers-rs-{name}", bytes([which]) + text(document).encode())

# status_list: status-list/src/list.rs' draft vectors (mode byte: bits, cap).
write("status_list", "list-rs-draft-1bit", bytes([0x0c]) + b"eNrbuRgAAhcBXQ")
write("status_list", "list-rs-draft-2bit", bytes([0x0d]) + b"eNo76fITAAPfAgc")
write("status_list", "list-rs-draft-1bit-vector", bytes([0x0c]) + b"eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAAACAZC8L2AEb")
write("status_list", "list-rs-bomb", bytes([0x08]) + b64(zlib.compress(bytes(1 << 16), 9)).encode())
write("status_list", "list-rs-trailing", bytes([0x0c]) + b64(zlib.compress(b"\xb9\xa3") + b"x").encode())
write("status_list", "list-rs-bytes", bytes([0x80]) + bytes([0xb9, 0xa3, 0x00, 0xff]))

# status_list_token: authorizer/tests/status_lists.rs' list tokens.
LIST_URI = ISSUER + "/statuslists/1"
def list_token(bits=1, lst="eNrbuRgAAhcBXQ", **changes):
    list_claims = {"sub": LIST_URI, "iss": ISSUER, "iat": NOW, "exp": EXP, "ttl": 300,
                   "status_list": {"bits": bits, "lst": lst}}
    list_claims.update(changes)
    return sign({"alg": "EdDSA", "kid": "fuzz-ed", "typ": "statuslist+jwt"}, list_claims)
for name, (idx, body) in {
    "valid": (1, list_token()),
    "revoked": (0, list_token()),
    "past-end": (200, list_token()),
    "two-bits": (2, list_token(bits=2, lst="eNo76fITAAPfAgc")),
    "wrong-sub": (1, list_token(sub=ISSUER + "/statuslists/2")),
    "wrong-typ": (1, sign({"alg": "EdDSA", "kid": "fuzz-ed", "typ": "jwt"}, {"sub": LIST_URI, "iat": NOW, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}})),
    "expired": (1, list_token(exp=NOW)),
}.items():
    write("status_list_token", f"status-lists-rs-{name}", bytes([0, idx]) + body.encode())
structured("status_list_token")

# events: authorizer/src/events.rs, event_request.rs and tests/answers.rs' events.
CONTEXT_V2 = {"accountId": "123456789012", "apiId": "abc123", "domainName": "api.fuzz.test", "domainPrefix": "api",
              "http": {"method": "GET", "path": "/prod/books/42", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "x"},
              "requestId": "r", "routeKey": "GET /books/{id}", "stage": "prod", "time": "t", "timeEpoch": 0}
events = {
    "token": (0, {"type": "TOKEN", "authorizationToken": f"Bearer {GOOD}", "methodArn": ARN}),
    "token-dpop-on": (1, {"type": "TOKEN", "authorizationToken": f"Bearer {GOOD}", "methodArn": ARN}),
    "request": (0, {"type": "REQUEST", "methodArn": ARN, "resource": "/books/{id}", "path": "/books/42", "httpMethod": "GET",
                    "headers": {"Authorization": f"Bearer {GOOD}"}, "multiValueHeaders": {"Authorization": [f"Bearer {GOOD}"]},
                    "requestContext": {"path": "/prod/books/42", "stage": "prod", "domainName": "api.fuzz.test",
                                       "identity": {"sourceIp": "192.0.2.1"}, "httpMethod": "GET", "apiId": "abc123"}}),
    "http-v1": (0, {"version": "1.0", "type": "REQUEST", "identitySource": f"acme,Bearer {GOOD}", "methodArn": ARN,
                    "headers": {"Authorization": "Bearer from-header", "X-Tenant": "acme"}, "requestContext": {}}),
    "http-v2": (0, {"version": "2.0", "type": "REQUEST", "routeArn": ARN, "identitySource": [f"Bearer {GOOD}"],
                    "routeKey": "GET /books/{id}", "headers": {"authorization": f"Bearer {GOOD}"}, "requestContext": CONTEXT_V2}),
    "http-v2-simple": (1, {"version": "2.0", "type": "REQUEST", "routeArn": ARN, "identitySource": [f"Bearer {GOOD}", "GET /books/{id}"],
                           "routeKey": "GET /books/{id}", "headers": {"authorization": f"Bearer {GOOD}"}, "requestContext": CONTEXT_V2}),
    "dpop-no-proof": (1, {"version": "2.0", "type": "REQUEST", "routeArn": ARN, "identitySource": [f"DPoP {DPOP_BOUND}"],
                          "routeKey": "GET /books/{id}", "headers": {"authorization": f"DPoP {DPOP_BOUND}"}, "requestContext": CONTEXT_V2}),
    "unknown": (0, {"type": "COGNITO"}),
}
for name, (config, event) in events.items():
    write("events", f"events-rs-{name}", bytes([0, config]) + text(event).encode())
structured("events", sizes=(64, 256, 1024))

# route_scopes: authorizer/src/route_scopes.rs and tests/policy_exact.rs' tables.
tables = {
    "demo": {"GET /books": "books:read", "GET /books/*": "books:read", "POST /books": "books:write",
             "PATCH /books/*": "books:write", "DELETE /books/*": "books:write", "GET /admin/keys": "keys:admin",
             "POST /admin/keys/*": "keys:admin", "POST /admin/tokens/revoke": "keys:admin"},
    "both-forms": {"get /orders": "orders:read orders:admin", "* /orders/*": ["orders:admin"]},
    "star-method": {"* /orders/*": "orders:admin"},
    "overlap": {"GET /books/*": "a", "* /books/1": "b"},
    "same-scopes": {"GET /books/*": "a", "GET /books/1": "a"},
    "everything": {"* /*": "all"},
    "bad-key": {"GET books": "a"},
}
for name, table in tables.items():
    write("route_scopes", f"route-scopes-rs-{name}", b"\x00" + text(table).encode())
structured("route_scopes")

# route_rules: the demo's shelves (infra/api-routes.json), tests/rules_exact.rs' and
# docs/route-rules.md's tables, as ROUTE_SCOPES NUL ROUTE_RULES.
rule_tables = {
    "shelves": ({"GET /books": "books:read", "GET /shelves/{owner}/books": "books:read"},
                {"GET /shelves/{owner}/books": [{"bind": {"owner": "sub"}}, {"when": "'books:admin' in scopes"}]}),
    "tenant-orders": ({"GET /tenants/{tenant}/orders": "orders:read"},
                      {"GET /tenants/{tenant}/orders": [{"when": "'orders:admin' in scopes"},
                                                        {"bind": {"tenant": "claims.tenant_id"}}]}),
    "greedy": ({"GET /home/{user}/{proxy+}": "a", "* /t/*": "b"},
               {"GET /home/{user}/{proxy+}": [{"bind": {"user": "sub", "proxy": "'docs/' + sub"}}]}),
    "list-bind": ({"GET /t/{tenant}/orders/{id}": "a"},
                  {"GET /t/{tenant}/orders/{id}": [{"when": "sub.startsWith('ac')",
                                                    "bind": {"tenant": "claims.tenants"}}]}),
    "bad-expr": ({"GET /t/{tenant}/orders": "a"}, {"GET /t/{tenant}/orders": [{"when": "claims.(("}]}),
}
for name, (scopes, rules) in rule_tables.items():
    write("route_rules", f"route-rules-{name}", b"\x00" + (text(scopes) + "\0" + text(rules)).encode())
structured("route_rules")

# issuer_bodies: issuer/tests/routes.rs' bodies (route, content type, body).
bodies = {
    "json-login": (0, 1, {"username": "ada", "password": "correct horse"}),
    "json-login-scope": (0, 1, {"username": "ada", "password": "correct horse", "scope": "books:read"}),
    "password-grant": (0, 0, "grant_type=password&username=ada&password=correct+horse&scope=books%3Aread"),
    "client-form": (0, 0, "grant_type=client_credentials&client_id=reports&client_secret=s3cret%3Awith%2Fodd%26chars%3D%2B%25"),
    "unsupported-grant": (0, 0, "grant_type=authorization_code&code=x"),
    "no-grant": (0, 0, "username=ada&password=x"),
    "revoke": (1, 0, f"token={GOOD}&token_type_hint=access_token"),
    "revoke-client": (1, 0, f"token={GOOD}&client_id=reports&client_secret=wrong"),
    "admin-jti": (2, 1, {"jti": "01JD7Q2Z6W4N8M5K3H1G0F9E8D"}),
    "admin-sub": (2, 1, {"sub": "alice"}),
    "staged": (3, 1, {"username": "ada", "password": "wrong"}),
}
for name, (route, content_type, body) in bodies.items():
    write("issuer_bodies", f"routes-rs-{name}", bytes([0, route, content_type]) + text(body).encode())
structured("issuer_bodies")

# dpop_proof: dpop's and authorizer/tests/dpop.rs' proofs, signed with the fixed client key.
proof_header = {"typ": "dpop+jwt", "alg": "EdDSA", "jwk": CLIENT_JWK}
proof_claims = {"jti": "j-1", "htm": "GET", "htu": "https://api.fuzz.test/books", "iat": NOW}
for name, proof in {
    "good-but-stale": sign(proof_header, proof_claims, CLIENT),
    "ath": sign(proof_header, dict(proof_claims, ath=b64(hashlib.sha256(GOOD.encode()).digest())), CLIENT),
    "wrong-typ": sign(dict(proof_header, typ="jwt"), proof_claims, CLIENT),
    "private-jwk": sign(dict(proof_header, jwk=dict(CLIENT_JWK, d=b64(bytes([0x22] * 32)))), proof_claims, CLIENT),
    "other-key": sign(proof_header, proof_claims, ED),
}.items():
    write("dpop_proof", f"dpop-rs-{name}", b"\x00" + proof.encode())
structured("dpop_proof")
print("seeds written under", ROOT)
