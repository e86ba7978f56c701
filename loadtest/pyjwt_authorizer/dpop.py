"""DPoP (RFC 9449) for the PyJWT reference authorizer: the checks Tollgate's
authorizer makes of a proof (dpop/src/proof.rs, check.rs, htu.rs), done
with PyJWT and cryptography.

A proof is read and its signature checked with its own header `jwk`
(`typ` dpop+jwt, an accepted asymmetric `alg`, a public key of the kind the
`alg` needs, no `crit`), then held to the request in RFC 9449 §4.3's
order: `htm`, `htu` (RFC 3986 normalized, against the URIs the client may
have called), `iat` (within DPOP_MAX_AGE_SECONDS plus a clock skew), `ath`
(the access token's hash), the key's RFC 7638 thumbprint against the
token's `cnf.jkt`, and last, so that a refused proof never uses up its
`jti`, that this process has not seen the proof before. Any failure raises
ProofRefused.
"""

import base64
import hashlib
import json
import math
import re
import time
from urllib.parse import urlsplit

import jwt

# Tollgate's values, so that both hold proofs alike
# (loadtest/tests/test_tollgate_defaults.py checks them against the Rust).
# Truth: dpop/src/settings.rs, DEFAULT_ALGORITHMS.
DEFAULT_DPOP_ALGORITHMS = ["ES256", "EdDSA", "PS256", "RS256"]
# Truth: dpop/src/settings.rs, DEFAULT_MAX_AGE_SECONDS.
DEFAULT_DPOP_MAX_AGE_SECONDS = 60
# Truth: dpop/src/check.rs, CLOCK_SKEW_SECONDS.
CLOCK_SKEW_SECONDS = 5
# Truth: dpop/src/proof.rs, MAX_PROOF_BYTES and MAX_JTI_BYTES.
MAX_PROOF_BYTES = 8192
MAX_JTI_BYTES = 512
# Truth: dpop/src/replay.rs, MEMORY_STORE_CAPACITY.
MEMORY_STORE_CAPACITY = 100_000
# Truth: jose/src/jwk.rs, MIN_RSA_BITS and MAX_RSA_BITS.
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192

# The key each algorithm verifies with: (kty, crv); RSA keys have no crv.
KEY_TYPES = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "EdDSA": ("OKP", "Ed25519"),
    **{alg: ("RSA", None) for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
}
# RFC 7638 §3.2: the members a thumbprint is computed over, per kty.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


class ProofRefused(Exception):
    """The proof (or its absence) does not let the token through."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(token):
    """`ath`: base64url of the SHA-256 of the access token's ASCII."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


def thumbprint(jwk):
    """The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def is_canonical_b64url(text):
    """Exact base64url without padding: the one spelling of its bytes."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return False
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return False
    return b64url(decoded) == text


def is_dpop_typ(typ):
    """`dpop+jwt`, as media types compare (case-insensitive, `application/` optional)."""
    if not isinstance(typ, str):
        return False
    bare = typ[12:] if typ[:12].lower() == "application/" else typ
    return bare.lower() == "dpop+jwt"


def normalize_uri(uri):
    """`uri` for comparison as RFC 3986 §6.2.2 and §6.2.3 have it: lower-case
    scheme and host, no default port, `/` for an empty path, dot segments
    resolved, percent-escapes in upper case and unreserved ones decoded.
    Query and fragment are kept, so an `htu` with one never equals a
    request URI. None for anything but an absolute http(s) URI with a host
    and no user information."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except (ValueError, TypeError):
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[scheme]
    authority = host if port in (None, default_port) else f"{host}:{port}"
    path = remove_dot_segments(normalize_escapes(parts.path)) or "/"
    normal = f"{scheme}://{authority}{path}"
    if "?" in uri.split("#", 1)[0]:
        normal += "?" + normalize_escapes(parts.query)
    if "#" in uri:
        normal += "#" + normalize_escapes(parts.fragment)
    return normal


def normalize_escapes(text):
    """Percent-escapes in upper case; those of unreserved characters decoded."""

    def one(match):
        byte = int(match.group(1), 16)
        return chr(byte) if byte in UNRESERVED else f"%{byte:02X}"

    return ESCAPE.sub(one, text)


def remove_dot_segments(path):
    """RFC 3986 §5.2.4."""
    output = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    resolved = "/" + "/".join(output) if path.startswith("/") else "/".join(output)
    # A path ending in a dot segment names a directory.
    if path.endswith(("/.", "/..")) and not resolved.endswith("/"):
        resolved += "/"
    return resolved


def without_query(uri):
    """`uri` without its query and fragment: the request URI to compare with."""
    return re.split(r"[?#]", uri, maxsplit=1)[0]


def request_uris(event, public_base_urls):
    """The URIs (without query) a REST REQUEST event's client may have
    called: `https://` and the request context's domain and path, and each
    public base URL followed by the resource path. Never from a header the
    client set (Host, X-Forwarded-*)."""
    context = event.get("requestContext") or {}
    uris = []
    if isinstance(context.get("domainName"), str) and isinstance(context.get("path"), str):
        uris.append(f"https://{context['domainName']}{context['path']}")
    if isinstance(event.get("path"), str):
        uris += [f"{base}{event['path']}" for base in public_base_urls]
    return uris


def dpop_headers(event):
    """Every `DPoP` header value of a REST REQUEST event: each value of the
    multi-value headers when it has them (the single-value map keeps only
    the last), else the single value; each split at commas (a proof holds
    none). Exactly one is a proof."""
    def values(headers):
        found = []
        for name, value in (headers or {}).items():
            if name.lower() == "dpop":
                found += value if isinstance(value, list) else [value]
        return [v for v in found if isinstance(v, str)]

    multi = event.get("multiValueHeaders") or {}
    has_multi = any(name.lower() == "dpop" for name in multi)
    fields = values(multi) if has_multi else values(event.get("headers"))
    return [part.strip() for field in fields for part in field.split(",")]


class UsedProofs:
    """This process's memory of used proofs, by key thumbprint and `jti`,
    each until its proof could no longer pass the `iat` check. Like
    Tollgate's memory store, it does not see a proof replayed at another
    instance; when full of unexpired proofs it refuses new ones rather than
    forget one."""

    def __init__(self, capacity=MEMORY_STORE_CAPACITY):
        self.capacity = capacity
        self.until = {}

    def first_use(self, key, expires_at, now):
        if self.until.get(key, -1) >= now:
            return False
        if len(self.until) >= self.capacity:
            self.until = {k: t for k, t in self.until.items() if t >= now}
            if len(self.until) >= self.capacity:
                return False
        self.until[key] = expires_at
        return True


class ProofChecker:
    """Reads proofs and holds each to one request."""

    def __init__(self, algorithms=None, max_age=DEFAULT_DPOP_MAX_AGE_SECONDS, used=None):
        self.algorithms = list(DEFAULT_DPOP_ALGORITHMS if algorithms is None else algorithms)
        unknown = [alg for alg in self.algorithms if alg not in KEY_TYPES]
        if unknown or not self.algorithms:
            raise ValueError(f"DPOP_ALGORITHMS must list asymmetric JWS algorithms, not {unknown}")
        self.max_age = max_age
        self.used = used or UsedProofs()

    def check(self, proof, method, uris, access_token=None, bound_jkt=None, now=None):
        """Every check, the replay memory's last; the proof key's thumbprint.
        Without `access_token` (a token request) there is no `ath` to check,
        without `bound_jkt` no binding."""
        now = int(time.time()) if now is None else now
        jkt, claims = self.read(proof)
        if claims["htm"] != method:
            raise ProofRefused("htm is not the request's method")
        htu = normalize_uri(claims["htu"])
        if htu is None or htu not in {normalize_uri(without_query(uri)) for uri in uris}:
            raise ProofRefused("htu is not the request's URI")
        iat = int(claims["iat"])
        if iat < now - self.max_age - CLOCK_SKEW_SECONDS or iat > now + CLOCK_SKEW_SECONDS:
            raise ProofRefused("iat is too old or in the future")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise ProofRefused("ath is not the access token's hash")
        if bound_jkt is not None and jkt != bound_jkt:
            raise ProofRefused("the proof's key is not the one the token is bound to")
        replay_key = hashlib.sha256(f"{jkt}\0{claims['jti']}".encode("utf-8")).hexdigest()
        if not self.used.first_use(replay_key, iat + self.max_age + CLOCK_SKEW_SECONDS, now):
            raise ProofRefused("the proof was used before")
        return jkt

    def read(self, proof):
        """The proof's key thumbprint and claims, its signature checked with
        the header's own public jwk."""
        if len(proof) > MAX_PROOF_BYTES or proof.count(".") != 2:
            raise ProofRefused("not a compact JWS of a sane size")
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError:
            raise ProofRefused("the header is not JSON") from None
        if not is_dpop_typ(header.get("typ")):
            raise ProofRefused("typ is not dpop+jwt")
        if "crit" in header:
            raise ProofRefused("the header names a critical extension")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise ProofRefused("alg is not an accepted asymmetric algorithm")
        jwk = header.get("jwk")
        key = self.public_key(jwk, alg)
        try:
            payload = jwt.api_jws.decode_complete(proof, key, algorithms=[alg])["payload"]
            claims = json.loads(payload)
        except (jwt.PyJWTError, ValueError):
            raise ProofRefused("bad signature or claims") from None
        if not isinstance(claims, dict):
            raise ProofRefused("the claims are not a JSON object")
        for name in ("jti", "htm", "htu"):
            if not isinstance(claims.get(name), str):
                raise ProofRefused(f"{name} is missing or not a string")
        if not claims["jti"] or len(claims["jti"].encode("utf-8")) > MAX_JTI_BYTES:
            raise ProofRefused("jti is empty or too long")
        iat = claims.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, (int, float)) or not math.isfinite(iat) or not 0 <= iat < 1e15:
            raise ProofRefused("iat is not a date")
        if claims.get("ath") is not None and not isinstance(claims["ath"], str):
            raise ProofRefused("ath is not a string")
        return thumbprint(jwk), claims

    def public_key(self, jwk, alg):
        """The verifying key of a client's public JWK, of the kind `alg` needs."""
        if not isinstance(jwk, dict):
            raise ProofRefused("no jwk in the header")
        if any(member in jwk for member in PRIVATE_MEMBERS):
            raise ProofRefused("the jwk has private members")
        kty, crv = KEY_TYPES[alg]
        if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
            raise ProofRefused("the jwk is not a key for alg")
        if jwk.get("alg") not in (None, alg) or jwk.get("use") not in (None, "sig"):
            raise ProofRefused("the jwk is for another use or alg")
        if "key_ops" in jwk and "verify" not in (jwk["key_ops"] or []):
            raise ProofRefused("the jwk's key_ops do not allow verify")
        members = [name for name in THUMBPRINT_MEMBERS[kty] if name not in ("kty", "crv")]
        if not all(is_canonical_b64url(jwk.get(name)) for name in members):
            raise ProofRefused("a jwk member is missing or not exact base64url")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
        except (jwt.PyJWTError, ValueError, TypeError):
            raise ProofRefused("the jwk is not a usable key") from None
        if kty == "RSA" and not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise ProofRefused("RSA key size out of range")
        return key
