"""The load test's copies of Tollgate's values checked against where their
truth lives: the runner's defaults (runner/tollgate_defaults.py) against the
issuer's Rust and the root module's Terraform, the PyJWT authorizer's
defaults against Tollgate's authorizer. Each expectation is read from the
code (infra/tests/rust_source.py, the regexes the HCL contract test uses),
so changing a value there fails here. Run by `make loadtest-smoke`."""

import ast
import re
import sys
import unittest
from pathlib import Path

LOADTEST = Path(__file__).resolve().parents[1]
ROOT = LOADTEST.parent
sys.path.insert(0, str(LOADTEST))
sys.path.insert(0, str(ROOT / "infra" / "tests"))
import rust_source  # noqa: E402  (infra/tests/rust_source.py)
from runner import deployed, tollgate_defaults  # noqa: E402

ISSUER_CONFIG = ROOT / "issuer" / "src" / "config.rs"
ROOT_VARIABLES = ROOT / "infra" / "variables.tf"
PYJWT_AUTHORIZER = LOADTEST / "pyjwt_authorizer" / "authorizer.py"
PYJWT_DPOP = LOADTEST / "pyjwt_authorizer" / "dpop.py"


def terraform_default(path, variable):
    """The literal `default` of `variable "<variable>"` in a .tf file."""
    text = path.read_text(encoding="utf-8")
    block = re.search(rf'^variable "{variable}" \{{\n(.*?)^\}}', text, re.M | re.S)
    if block is None:
        raise KeyError(f"variable {variable} not in {path}")
    default = re.search(r"^\s*default\s*=\s*(.+?)\s*$", block.group(1), re.M)
    if default is None:
        raise KeyError(f"variable {variable} has no default in {path}")
    return ast.literal_eval(default.group(1))


def python_constants(path):
    """The module-level `NAME = <literal>` assignments of a Python file, read
    without importing it (the PyJWT authorizer fetches its JWKS on import)."""
    constants = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


class RunnerDefaultsTest(unittest.TestCase):
    """runner/tollgate_defaults.py against the issuer and Terraform."""

    @classmethod
    def setUpClass(cls):
        cls.issuer = rust_source.function_source("issuer")
        cls.issuer_defaults = rust_source.setting_defaults(cls.issuer)

    def test_the_issuers_jwks_max_age_default(self):
        self.assertEqual(self.issuer_defaults["JWKS_MAX_AGE_SECONDS"], tollgate_defaults.ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS)

    def test_the_issuers_status_list_max_age_default(self):
        self.assertEqual(
            self.issuer_defaults["STATUS_LIST_MAX_AGE_SECONDS"], tollgate_defaults.ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS
        )

    def test_the_issuer_lambdas_keyset_cache_time(self):
        config = ISSUER_CONFIG.read_text(encoding="utf-8")
        self.assertEqual(rust_source.rust_constant(config, "DEFAULT_KEYSET_TTL"), tollgate_defaults.ISSUER_KEYSET_TTL_SECONDS)
        # ... which is what an issuer Lambda runs with: its configuration
        # takes it, and the Lambda's main sets no other.
        self.assertRegex(config, r"keyset_ttl: DEFAULT_KEYSET_TTL,")
        self.assertNotIn("with_keyset_ttl", (ROOT / "issuer/src/bin/issuer.rs").read_text(encoding="utf-8"))

    def test_the_rotation_spacing_rule_the_deployed_runs_follow(self):
        # deployed_env spaces rotations by JWKS_MAX_AGE_SECONDS plus the keyset cache time.
        rule = re.search(r"fn rotation_spacing\([^)]*\) -> Duration \{\s*(.+?)\s*\}", ISSUER_CONFIG.read_text(encoding="utf-8"), re.S)
        self.assertIsNotNone(rule, "rotation_spacing not found in issuer/src/config.rs")
        self.assertEqual(rule.group(1), "Duration::from_secs(jwks_max_age_seconds) + keyset_ttl")

    def test_the_deployed_authorizer_cache_ttl_is_terraforms_default(self):
        self.assertEqual(
            terraform_default(ROOT_VARIABLES, "authorizer_cache_ttl_seconds"), tollgate_defaults.DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS
        )

    def test_the_settings_read_from_the_issuer_function_are_the_issuers(self):
        runner = Path(deployed.__file__).read_text(encoding="utf-8")
        read = set(re.findall(r'deployed_issuer_setting\([^,]+, "([A-Z_]+)"', runner))
        self.assertEqual(read, {"JWKS_MAX_AGE_SECONDS", "STATUS_LIST_MAX_AGE_SECONDS"})
        self.assertLessEqual(read, rust_source.env_names(self.issuer))


class PyJwtAuthorizerDefaultsTest(unittest.TestCase):
    """The PyJWT authorizer's defaults against Tollgate's authorizer, so that
    the load test compares the two under the same settings."""

    @classmethod
    def setUpClass(cls):
        cls.pyjwt = python_constants(PYJWT_AUTHORIZER)
        cls.tollgate = rust_source.setting_defaults(rust_source.function_source("authorizer"))

    def test_leeway(self):
        self.assertEqual(self.pyjwt["DEFAULT_LEEWAY_SECONDS"], self.tollgate["JWT_LEEWAY_SECONDS"])

    def test_jwks_max_age(self):
        self.assertEqual(self.pyjwt["DEFAULT_JWKS_MAX_AGE_SECONDS"], self.tollgate["JWKS_MAX_AGE_SECONDS"])

    def test_algorithms(self):
        source = (ROOT / "jose/src/algorithm.rs").read_text(encoding="utf-8")
        body = source[source.index("pub fn from_name"):]
        body = body[:body.index("\n    }\n")]
        self.assertEqual(self.pyjwt["ALLOWED_ALGS"], set(re.findall(r'"(\w+)" => Algorithm::', body)))

    def test_route_scopes(self):
        expected = {f"{method} {path}": scopes for method, path, scopes in rust_source.default_route_scopes()}
        self.assertEqual(self.pyjwt["DEFAULT_ROUTE_SCOPES"], expected)


class PyJwtDpopDefaultsTest(unittest.TestCase):
    """The PyJWT authorizer's DPoP values against Tollgate's dpop and jose
    crates: the same algorithms, ages, sizes and memory."""

    @classmethod
    def setUpClass(cls):
        cls.pyjwt = python_constants(PYJWT_DPOP)

    def rust(self, path, name):
        return rust_source.rust_constant((ROOT / path).read_text(encoding="utf-8"), name)

    def test_numbers(self):
        for python_name, path, rust_name in (
            ("DEFAULT_DPOP_MAX_AGE_SECONDS", "dpop/src/settings.rs", "DEFAULT_MAX_AGE_SECONDS"),
            ("CLOCK_SKEW_SECONDS", "dpop/src/check.rs", "CLOCK_SKEW_SECONDS"),
            ("MAX_PROOF_BYTES", "dpop/src/proof.rs", "MAX_PROOF_BYTES"),
            ("MAX_JTI_BYTES", "dpop/src/proof.rs", "MAX_JTI_BYTES"),
            ("MEMORY_STORE_CAPACITY", "dpop/src/replay.rs", "MEMORY_STORE_CAPACITY"),
            ("MIN_RSA_BITS", "jose/src/jwk.rs", "MIN_RSA_BITS"),
            ("MAX_RSA_BITS", "jose/src/jwk.rs", "MAX_RSA_BITS"),
        ):
            self.assertEqual(self.pyjwt[python_name], self.rust(path, rust_name), python_name)

    def test_algorithms(self):
        source = (ROOT / "dpop/src/settings.rs").read_text(encoding="utf-8")
        listed = re.search(r"const DEFAULT_ALGORITHMS: \[Algorithm; \d+\] = \[(.*?)\];", source, re.S)
        self.assertIsNotNone(listed, "DEFAULT_ALGORITHMS not found in dpop/src/settings.rs")
        self.assertEqual(self.pyjwt["DEFAULT_DPOP_ALGORITHMS"], re.findall(r"Algorithm::(\w+)", listed.group(1)))

    def test_the_default_mode(self):
        source = (ROOT / "authorizer/src/sender_settings.rs").read_text(encoding="utf-8")
        default = re.search(r"#\[default\]\s*(\w+),", source)
        self.assertEqual(default.group(1), "IfBound")
        authorizer = PYJWT_AUTHORIZER.read_text(encoding="utf-8")
        self.assertIn('DPOP_MODE = (os.environ.get("DPOP_MODE") or "if_bound")', authorizer)


if __name__ == "__main__":
    unittest.main()
