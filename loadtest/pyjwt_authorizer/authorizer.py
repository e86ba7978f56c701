"""Reference Lambda authorizer: what a careful team writes with PyJWT.

REST API authorizer run under awslambdaric (`python -m awslambdaric
authorizer.handler`). Same contract as Tollgate's authorizer, so the load
test compares like with like:
  - the credential, `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1), from a
    REST REQUEST event's `Authorization` header (what the local gateway
    sends), or a TOKEN event's `authorizationToken` with DPOP_MODE=off (a
    TOKEN event carries no proof: with DPoP on it is a misconfiguration and
    fails naming DPoP, as Tollgate's does), else Unauthorized;
  - signature against the issuer's JWKS (PyJWKClient, keys cached for
    JWKS_MAX_AGE_SECONDS, refetched on an unknown kid), the algorithm pinned
    to the JWK's own `alg`;
  - `iss` == JWT_ISSUER, `aud` among JWT_AUDIENCE, `exp`/`nbf` with
    JWT_LEEWAY_SECONDS, header `typ` == JWT_REQUIRED_TYP (RFC 9068: `at+jwt`
    and `application/at+jwt` are the same);
  - a policy over the whole API (never just the methodArn): Allow the routes
    the token's scopes grant, explicit Deny for the rest, `principalId` = sub,
    context {sub, scope, iss, kid[, client_id]};
  - DPoP as Tollgate's DPOP_MODE (default `if_bound`) has it: a token with
    `cnf.jkt` only in the DPoP scheme with exactly one `DPoP` header, a
    proof of that key for this request (dpop.py: signature, htm, htu
    against the request context's domain and path and DPOP_PUBLIC_BASE_URLS,
    iat, ath, thumbprint, and a `jti` this process has not seen); the DPoP
    scheme only with a bound token; with `required`, bound tokens only. A
    token bound to a client certificate (`cnf.x5t#S256`) is refused: the
    reference has no mTLS.
Any refusal raises Exception("Unauthorized"), which API Gateway answers 401.
"""

import json
import logging
import os
import re

import jwt
from jwt import PyJWKClient

import dpop

LOG = logging.getLogger("pyjwt-authorizer")

# Tollgate's authorizer's defaults, so that both run alike when a setting is
# unset (loadtest/tests/test_tollgate_defaults.py checks them against the Rust).
# Truth: authorizer/src/config.rs, settings.number_in("JWT_LEEWAY_SECONDS", ...).
DEFAULT_LEEWAY_SECONDS = 30
# Truth: authorizer/src/config.rs, capped("JWKS_MAX_AGE_SECONDS", ...).
DEFAULT_JWKS_MAX_AGE_SECONDS = 300
# Truth: jose/src/algorithm.rs, Algorithm::from_name.
ALLOWED_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
# The books API's routes and the scopes that grant them.
# Truth: authorizer/src/route_scopes.rs, RouteScopes::books_defaults.
DEFAULT_ROUTE_SCOPES = {
    "GET /books": "books:read",
    "GET /books/*": "books:read",
    "POST /books": "books:write",
    "PATCH /books/*": "books:write",
    "DELETE /books/*": "books:write",
    "GET /shelves/{owner}/books": "books:read",
    "GET /admin/keys": "keys:admin",
    "POST /admin/keys/*": "keys:admin",
    "POST /admin/tokens/revoke": "keys:admin",
}

ISSUER = os.environ["JWT_ISSUER"]
JWKS_URI = os.environ.get("JWKS_URI") or ISSUER.rstrip("/") + "/.well-known/jwks.json"
AUDIENCES = [a.strip() for a in os.environ["JWT_AUDIENCE"].split(",") if a.strip()]
REQUIRED_TYP = os.environ.get("JWT_REQUIRED_TYP", "").lower().removeprefix("application/")
LEEWAY = int(os.environ.get("JWT_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS))
JWKS_MAX_AGE = int(os.environ.get("JWKS_MAX_AGE_SECONDS", DEFAULT_JWKS_MAX_AGE_SECONDS))
ROUTES = json.loads(os.environ["ROUTE_SCOPES"]) if os.environ.get("ROUTE_SCOPES") else DEFAULT_ROUTE_SCOPES
# Truth: authorizer/src/sender_settings.rs, DpopMode (default IfBound).
DPOP_MODES = ("off", "if_bound", "required")
DPOP_MODE = (os.environ.get("DPOP_MODE") or "if_bound").strip().lower()
if DPOP_MODE not in DPOP_MODES:
    raise ValueError(f"DPOP_MODE must be one of {DPOP_MODES}, not {DPOP_MODE!r}")
# The URLs clients call the API at (the local stack passes its address).
PUBLIC_BASE_URLS = [url.rstrip("/") for url in json.loads(os.environ.get("DPOP_PUBLIC_BASE_URLS") or "[]")]
PROOFS = dpop.ProofChecker(
    [a.strip() for a in os.environ["DPOP_ALGORITHMS"].split(",") if a.strip()] if os.environ.get("DPOP_ALGORITHMS") else None,
    int(os.environ.get("DPOP_MAX_AGE_SECONDS") or dpop.DEFAULT_DPOP_MAX_AGE_SECONDS),
)

# `Bearer` or `DPoP`, one or more spaces, the token (RFC 6750 §2.1's b64token).
PARAM = re.compile(r"\{[^}/]+\}")
CREDENTIAL = re.compile(r"^(bearer|dpop) +([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)
ARN = re.compile(r"^(arn:[^:]+:execute-api:[^:]+:[^:]+:[^/]+/[^/]+)/")

# Init: the JWKS is fetched once here and cached across warm invocations.
JWKS = PyJWKClient(JWKS_URI, cache_jwk_set=True, lifespan=JWKS_MAX_AGE, timeout=2)
JWKS.get_jwk_set()


class Unauthorized(Exception):
    def __init__(self):
        super().__init__("Unauthorized")


def _scopes(value):
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str)]
    return []


def _policy(api_base, scopes):
    granted = set(scopes)
    allowed, denied = [], []
    for route, needs in ROUTES.items():
        method, path = route.split(" ", 1)
        resource = f"{api_base}/{method}{PARAM.sub('*', path)}"
        # This reference does not evaluate route rules, so a route with a
        # `{param}` (bound to a claim in Tollgate's table) is never allowed:
        # a `*` in its place would open every tenant's shelf to every reader.
        grants = granted & set(_scopes(needs)) and not PARAM.search(path)
        (allowed if grants else denied).append(resource)
    if not allowed:
        denied = [f"{api_base}/*"]
    statements = []
    if allowed:
        statements.append({"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": allowed})
    if denied:
        statements.append({"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": denied})
    return {"Version": "2012-10-17", "Statement": statements}


def _verify(token):
    header = jwt.get_unverified_header(token)
    if REQUIRED_TYP and str(header.get("typ", "")).lower().removeprefix("application/") != REQUIRED_TYP:
        raise Unauthorized()
    signing_key = JWKS.get_signing_key(header.get("kid"))
    alg = signing_key.algorithm_name
    if alg not in ALLOWED_ALGS or header.get("alg") != alg:
        raise Unauthorized()
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=[alg],
        audience=AUDIENCES,
        issuer=ISSUER,
        leeway=LEEWAY,
        options={"require": ["exp", "iss", "sub"]},
    )
    return header, claims


def _header(event, name):
    """The first value of header `name` (any case) of a REST REQUEST event:
    from `headers`, else from `multiValueHeaders`."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and isinstance(value, str):
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name and isinstance(values, list) and values and isinstance(values[0], str):
            return values[0]
    return None


def _authorization(event):
    """The credential as API Gateway hands it over: a TOKEN event's
    `authorizationToken`, a REQUEST event's `Authorization` header."""
    if str(event.get("type", "")).upper() == "TOKEN":
        if DPOP_MODE != "off":
            raise RuntimeError("a TOKEN event carries no DPoP proof: use a REQUEST authorizer, or DPOP_MODE=off")
        return event.get("authorizationToken") or ""
    return _header(event, "authorization") or ""


def _check_sender(event, scheme, token, claims):
    """The DPoP rules of DPOP_MODE for a verified token presented in `scheme`."""
    cnf = claims.get("cnf", {})
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt", ""), str):
        raise dpop.ProofRefused("cnf is not an object, or its jkt not a string")
    if "x5t#S256" in cnf:
        raise dpop.ProofRefused("a certificate-bound token: the reference has no mTLS")
    if DPOP_MODE == "off":
        return
    bound_jkt = cnf.get("jkt")
    if bound_jkt is None:
        if scheme == "dpop" or DPOP_MODE == "required":
            raise dpop.ProofRefused("the DPoP scheme, or DPOP_MODE=required, with a token that is not DPoP-bound")
        return
    if scheme != "dpop":
        raise dpop.ProofRefused("a DPoP-bound token presented as Bearer")
    proofs = dpop.dpop_headers(event)
    if len(proofs) != 1:
        raise dpop.ProofRefused("not exactly one DPoP header")
    uris = dpop.request_uris(event, PUBLIC_BASE_URLS)
    PROOFS.check(proofs[0], event.get("httpMethod"), uris, token, bound_jkt)


def handler(event, _context):
    match = CREDENTIAL.match(_authorization(event))
    arn = ARN.match(event.get("methodArn") or "")
    if not match or not arn:
        raise Unauthorized()
    scheme, token = match.group(1).lower(), match.group(2)
    try:
        header, claims = _verify(token)
        _check_sender(event, scheme, token, claims)
    except (jwt.PyJWTError, dpop.ProofRefused, KeyError, ValueError) as error:
        LOG.info("refused: %s: %s", type(error).__name__, error)
        raise Unauthorized() from None
    if not isinstance(claims.get("sub"), str):
        raise Unauthorized()
    scopes = _scopes(claims.get("scope")) + _scopes(claims.get("scp"))
    context = {"sub": claims["sub"], "scope": " ".join(scopes), "iss": claims["iss"], "kid": header.get("kid", "")}
    if isinstance(claims.get("client_id"), str):
        context["client_id"] = claims["client_id"]
    return {"principalId": claims["sub"], "policyDocument": _policy(arn.group(1), scopes), "context": context}
