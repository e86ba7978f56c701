"""The Terraform in infra/ checked against the code (and docs/reference.md's names).

Parses the HCL (bc-python-hcl2, the parser checkov uses) and the Rust
sources, and derives every expectation it can from the code rather than
from a copy kept here: the environment variables each binary reads, the
AWS SDK operations each function calls, the routes the issuer and backend
serve, the authorizer's default ROUTE_SCOPES, the metric names, decisions
and reasons the code emits. Run by `make infra-check` (part of `make test`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import hcl2
import pytest

from rust_source import (
    FUNCTION_SOURCES,
    ROOT,
    axum_routes,
    default_route_scopes,
    env_names,
    function_source,
    read,
    rust_files,
    strip_tests,
)

INFRA = ROOT / "infra"
FUNCTIONS = set(FUNCTION_SOURCES)
# Which crate and binary each function is.
CRATE = {"authorizer": "authorizer", "issuer": "issuer", "issuer-rotation": "issuer", "backend": "backend"}
# The IAM policy document of each function's AWS calls in iam.tf (the
# authorizer makes none; every function also has its own-logs document).
POLICY = {"issuer": "issuer", "issuer-rotation": "issuer_rotation", "backend": "backend"}


# ---------------------------------------------------------------- HCL

@cache
def hcl(path: str) -> dict:
    with open(INFRA / path, encoding="utf-8") as f:
        return hcl2.load(f)


def blocks(path: str, kind: str) -> dict:
    """{type: {name: body}} of `resource` or `data` blocks in one file."""
    out: dict = {}
    for block in hcl(path).get(kind, []):
        for type_, named in block.items():
            for name, body in named.items():
                out.setdefault(type_, {})[name] = body
    return out


def module_blocks(module: str, kind: str) -> dict:
    """{type: {name: body}} of `resource` or `data` blocks of modules/<module>."""
    out: dict = {}
    for tf in sorted((INFRA / "modules" / module).glob("*.tf")):
        for type_, named in blocks(f"modules/{module}/{tf.name}", kind).items():
            out.setdefault(type_, {}).update(named)
    return out


def module_call(name: str) -> dict:
    """The root module's `module "<name>"` block."""
    for tf in sorted(INFRA.glob("*.tf")):
        for block in hcl(tf.name).get("module", []):
            if name in block:
                return block[name]
    raise KeyError(f"module.{name}")


def root_blocks(kind: str) -> dict:
    out: dict = {}
    for tf in sorted(INFRA.glob("*.tf")):
        for type_, named in blocks(tf.name, kind).items():
            for name, body in named.items():
                assert name not in out.get(type_, {}), f"{type_}.{name} defined twice"
                out.setdefault(type_, {})[name] = body
    return out


def root_locals() -> dict:
    """Every `locals` value of the root module by name."""
    out: dict = {}
    for tf in sorted(INFRA.glob("*.tf")):
        for block in hcl(tf.name).get("locals", []):
            for name, value in block.items():
                if not name.startswith("__"):
                    out[name] = one(value)
    return out


def fill(value, key: str, item: dict):
    """An attribute of a `for_each` body with `each.key` and `each.value.<x>` in place."""
    if isinstance(value, list):
        return [fill(v, key, item) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, key, item) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{each\.value\.(\w+)\}", value)
    if whole:
        return item[whole.group(1)]
    value = re.sub(r"\$\{each\.value\.(\w+)\}", lambda m: item[m.group(1)], value)
    value = re.sub(r"each\.value\.(\w+)", lambda m: json.dumps(item[m.group(1)]), value)
    return value.replace("${each.key}", key).replace("each.key", json.dumps(key))


def instances(type_: str, only: str | None = None) -> dict:
    """{name: body} of a root resource type (or of its one resource `only`),
    with a `for_each` over a local map expanded into one body per key (as
    Terraform would), so that checks read every instance."""
    out: dict = {}
    for name, body in root_blocks("resource")[type_].items():
        if only is not None and name != only:
            continue
        each = re.fullmatch(r"\$\{local\.(\w+)\}", str(one(body.get("for_each", ""))))
        named = {name: body} if not each else {
            key: {attr: fill(v, key, item) for attr, v in body.items() if attr != "for_each"}
            for key, item in root_locals()[each.group(1)].items()
        }
        for key, instance in named.items():
            assert key not in out, f"{type_}: {key} twice"
            out[key] = instance
    return out


def one(value):
    """hcl2 wraps attribute values in a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def local(path: str, name: str):
    for block in hcl(path).get("locals", []):
        if name in block:
            return one(block[name])
    raise KeyError(f"local.{name} in {path}")


def hcl_map_keys(text: str) -> list[str]:
    return re.findall(r"^\s*\"?([A-Za-z_-]+)\"?\s*=", text, re.M)


# ---------------------------------------------------------------- Rust

@cache
def sdk_operations() -> dict[str, set[str]]:
    """Every operation of the SDK crates in Cargo.lock: {crate: {snake_name}}."""
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    ops = {}
    for pkg in meta["packages"]:
        if pkg["name"] in ("aws-sdk-dynamodb", "aws-sdk-secretsmanager"):
            op_dir = Path(pkg["manifest_path"]).parent / "src" / "operation"
            ops[pkg["name"]] = {d.name for d in op_dir.iterdir() if d.is_dir()}
    assert set(ops) == {"aws-sdk-dynamodb", "aws-sdk-secretsmanager"}, ops
    return ops


IAM_PREFIX = {"aws-sdk-dynamodb": "dynamodb", "aws-sdk-secretsmanager": "secretsmanager"}


def sdk_calls(fn: str) -> set[str]:
    """IAM actions for the SDK operations the function's sources call, per
    file that uses that SDK crate (`.get_item()` → dynamodb:GetItem)."""
    actions = set()
    for path in FUNCTION_SOURCES[fn]:
        for f in rust_files(path):
            source = strip_tests(f.read_text(encoding="utf-8"))
            for crate, ops in sdk_operations().items():
                if crate.replace("-", "_") not in source:
                    continue
                for call in re.findall(r"\.\s*([a-z][a-z0-9_]*)\(\)", source):
                    if call in ops:
                        pascal = "".join(part.capitalize() for part in call.split("_"))
                        actions.add(f"{IAM_PREFIX[crate]}:{pascal}")
    return actions


# Operations in the code that the deployed function never calls, and why.
NOT_ON_THE_FUNCTIONS_PATH = {
    # Table creation is for the local stack, the CLI and tests; Terraform makes the tables.
    "dynamodb:CreateTable",
    # `save` on a secret that does not exist creates it (local stack, CLI);
    # Terraform creates the keyset secret.
    "secretsmanager:CreateSecret",
}


def issuer_put_item_is_cli_only() -> bool:
    """The issuer's account writes (`AccountStore::put`) are `tollgate user
    add` / `client add`; no route or service path writes an account."""
    served = read(rust_files("issuer/src/routes*", "issuer/src/service.rs", "issuer/src/bin/issuer.rs"))
    return not re.search(r"\.put\(\s*&", served)


# ---------------------------------------------------------------- functions

def lambda_function():
    return root_blocks("resource")["aws_lambda_function"]["fn"]


def settings_functions() -> dict:
    return local("modules/settings/main.tf", "functions")


def test_the_four_functions_are_arm64_al2023_bootstrap():
    fn = lambda_function()
    assert one(fn["for_each"]) == "${local.functions}"
    # The root deploys three; the authorizer is the authorizer module's.
    assert local("main.tf", "functions") == '${{for fn , f in module.settings.functions : fn => f if fn != "authorizer"}}'
    assert local("main.tf", "authorizer") == '${module.settings.functions["authorizer"]}'
    assert set(settings_functions()) == FUNCTIONS
    authorizer = module_blocks("authorizer", "resource")["aws_lambda_function"]["this"]
    for f in (fn, authorizer):
        assert one(f["architectures"]) == ["arm64"]
        assert one(f["runtime"]) == "provided.al2023"
        assert one(f["handler"]) == "bootstrap"
    assert one(fn["environment"])["variables"] == ["${module.environment.variables[each.key]}"]
    assert one(authorizer["environment"])["variables"] == ["${local.environment}"]
    call = module_call("authorizer")
    assert one(call["source"]) == "./modules/authorizer"
    assert one(call["lambda_zip"]) == "${local.authorizer.zip}"
    assert one(call["name"]) == "${local.authorizer.function_name}"


def test_every_function_points_at_a_zip_make_lambda_builds():
    fn = lambda_function()
    assert one(fn["filename"]) == "${each.value.zip}"
    assert one(fn["source_code_hash"]) == "${filebase64sha256(each.value.zip)}"
    authorizer = module_blocks("authorizer", "resource")["aws_lambda_function"]["this"]
    assert one(authorizer["filename"]) == "${var.lambda_zip}"
    assert one(authorizer["source_code_hash"]) == "${filebase64sha256(var.lambda_zip)}"
    settings = (INFRA / "modules/settings/main.tf").read_text(encoding="utf-8")
    assert 'zip           = "${local.lambda_dir}/${fn}/bootstrap.zip"' in settings
    lambda_dir = next(v for v in hcl("variables.tf")["variable"] if "lambda_dir" in v)["lambda_dir"]
    assert one(lambda_dir["default"]) == "../target/lambda"
    assert (INFRA / one(lambda_dir["default"])).resolve() == ROOT / "target/lambda"

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^LAMBDA_FUNCTIONS := (.+)$", makefile, re.M).group(1).split()
    assert set(listed) == FUNCTIONS
    build = re.search(r"cargo lambda build(?:\\\n|[^\n])*", makefile).group(0)
    assert "--arm64" in build and "--output-format zip" in build and "--release" in build
    for name in FUNCTIONS:
        assert f"--bin {name}" in build, name
        assert (ROOT / CRATE[name] / "src/bin" / f"{name}.rs").is_file(), name


# ---------------------------------------------------------------- environment

def environment() -> dict[str, set[str]]:
    """The variable names each function may be given: the environment
    module's for the issuer, rotation and books; the authorizer module's."""
    text = (INFRA / "modules/environment/main.tf").read_text(encoding="utf-8")
    env = {}
    for fn, local_name in [("issuer", "issuer"), ("issuer-rotation", "issuer_rotation"), ("backend", "backend")]:
        body = re.search(rf"^  {local_name} = (?:merge\()?\s*\{{(.*?)^  [}})]", text, re.M | re.S).group(1)
        env[fn] = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s+=", body, re.M))
        env[fn] |= set(re.findall(r"\{ ([A-Z][A-Z0-9_]+) = ", body))
    module = (INFRA / "modules/authorizer/main.tf").read_text(encoding="utf-8")
    body = module[module.index("  environment = merge("):module.index("  api_id =")]
    env["authorizer"] = set(re.findall(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s+=", body))
    return env


@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_every_environment_variable_is_one_the_binary_reads(fn):
    env = environment()[fn]
    assert env, fn
    read_names = env_names(function_source(fn))
    assert env <= read_names, f"{fn} sets variables its code never reads: {sorted(env - read_names)}"


def test_required_settings_are_set():
    env = environment()
    assert {"JWT_ISSUER", "TRUSTED_ISSUERS", "JWKS_URI", "JWT_AUDIENCE", "JWT_REQUIRED_TYP", "STATUS_LIST_CHECK",
            "HTTP_API_SIMPLE_RESPONSES", "ROUTE_SCOPES", "SCOPE_CLAIMS", "CONTEXT_CLAIMS", "PRINCIPAL_CLAIM",
            "JWT_ALLOW_ID_TOKENS", "JWKS_MAX_AGE_SECONDS", "JWKS_MAX_STALE_SECONDS", "DPOP_MODE", "DPOP_ALGORITHMS",
            "DPOP_PUBLIC_BASE_URLS", "DPOP_REPLAY_TABLE"} <= env["authorizer"]
    assert {"JWT_ISSUER", "JWT_AUDIENCE", "KEYSET_SECRET_ID", "USERS_TABLE", "STATUS_TABLE", "SIGNING_ALG"} <= env["issuer"]
    assert {"SIGNING_ALG", "TOKEN_TTL_SECONDS", "JWKS_MAX_AGE_SECONDS"} <= env["issuer-rotation"]
    assert env["backend"] == {"BOOKS_TABLE"}
    # The root's authorizer trusts its own issuer, at its JWKS, for its audiences.
    call = module_call("authorizer")
    assert one(call["issuer"]) == "${module.environment.issuer_url}"
    assert one(call["jwks_uri"]) == "${module.environment.jwks_url}"
    assert one(call["audiences"]) == "${var.audiences}"
    assert one(call["status_list_check"]) == "required", "every token the issuer mints names its list"


def test_the_authorizer_requires_the_typ_the_issuer_writes():
    assert one(module_call("authorizer")["required_typ"]) == "at+jwt"
    assert '"at+jwt"' in read(rust_files("issuer/src")), "the issuer no longer writes typ at+jwt"


def test_environment_comes_from_the_resources():
    module = next(m for m in hcl("main.tf")["module"] if "environment" in m)["environment"]
    assert one(module["api_id"]) == "${aws_api_gateway_rest_api.tollgate.id}"
    assert one(module["stage_name"]) == "${var.stage_name}", "JWT_ISSUER from the stage name, not the stage resource"
    assert one(module["keyset_secret_arn"]) == "${aws_secretsmanager_secret.keyset.arn}"
    assert one(module["users_table"]) == "${aws_dynamodb_table.users.name}"
    assert one(module["books_table"]) == "${aws_dynamodb_table.books.name}"
    assert "aws_api_gateway_stage" not in json.dumps(module)


# ---------------------------------------------------------------- keyset secret

def test_no_private_key_enters_terraform_state():
    resources = root_blocks("resource")
    version = resources["aws_secretsmanager_secret_version"]["placeholder"]
    value = one(version["secret_string"])
    keys = re.findall(r"'(\w+)':", value)
    member = re.search(r'pub const PLACEHOLDER_MEMBER: &str = "(\w+)";',
                       (ROOT / "issuer/src/keys/secrets_manager.rs").read_text(encoding="utf-8")).group(1)
    assert value.startswith("${jsonencode({") and keys == [member], "a one-member placeholder the issuer recognises"
    ignored = one(one(version["lifecycle"])["ignore_changes"])
    assert set(ignored) == {"${secret_string}", "${version_stages}"}
    assert len(resources["aws_secretsmanager_secret_version"]) == 1
    rotation = resources["aws_secretsmanager_secret_rotation"]["keyset"]
    assert one(rotation["rotate_immediately"]) is True
    assert one(rotation["rotation_lambda_arn"]) == '${aws_lambda_function.fn["issuer-rotation"].arn}'
    assert one(one(rotation["rotation_rules"])["schedule_expression"]) == "${var.rotation_schedule}"
    outputs = json.dumps(hcl("outputs.tf"))
    assert "secret_string" not in outputs and "aws_secretsmanager_secret_version" not in outputs


# ---------------------------------------------------------------- routes

def api_routes() -> dict[str, dict]:
    return local("api.tf", "routes")


def api_pattern(path: str) -> re.Pattern:
    """An API Gateway resource path as a regex ({proxy+}: one or more segments)."""
    out = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part == "{proxy+}":
            out += r"[^/]+(?:/[^/]+)*"
        elif part.startswith("{"):
            out += r"[^/]+"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


def sample(path: str) -> str:
    """A concrete path for a route path (ROUTE_SCOPES `*` or axum `{id}`)."""
    return re.sub(r"\{[^}]+\}", "x1", path.replace("*", "x1"))


def glob(pattern: str, path: str) -> bool:
    """ROUTE_SCOPES path matching: `*` matches anything, `/` included."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None


def test_the_api_has_exactly_the_route_tables_methods():
    """api.tf's methods are infra/api-routes.json's, which the local gateway
    routes by: same keys, functions and authorization."""
    table = json.loads((INFRA / "api-routes.json").read_text(encoding="utf-8"))
    api = {key: (r["function"], r["authorized"]) for key, r in api_routes().items()}
    assert api == {key: (m["function"], m["authorized"]) for key, m in table["methods"].items()}
    call = module_call("authorizer")
    # (the HCL parser spells null None)
    assert one(call["route_scopes"]) == "${var.route_scopes != None ? var.route_scopes : local.api_routes.route_scopes}"
    assert one(call["route_rules"]) == (
        "${jsondecode(var.route_rules != None ? jsonencode(var.route_rules) : jsonencode(local.api_routes.route_rules))}")
    assert root_locals()["api_routes"] == '${jsondecode(file("${path.module}/api-routes.json"))}'


def test_the_modules_route_rules_checks_are_the_authorizers():
    """The authorizer module's plan-time checks of route_rules refuse what
    the function refuses at start (route_rules.rs, route_template.rs), and
    the demo's rules pass both."""
    variables = {k: v for block in hcl("modules/authorizer/variables.tf")["variable"] for k, v in block.items()}
    rules = variables["route_rules"]
    # `any`: converting to an object type would drop a misspelt member
    # without a word, where the function refuses it.
    assert (one(rules["type"]), one(rules["default"])) == ("${any}", {})
    checks = "\n".join(conditions(rules))
    source = strip_tests((ROOT / "authorizer/src/route_rules.rs").read_text(encoding="utf-8"))
    alternative = re.search(r"#\[serde\(deny_unknown_fields\)\]\s*struct AlternativeJson \{(.*?)\}", source, re.S).group(1)
    members = set(re.findall(r"(\w+): Option<", alternative))
    assert members == {"when", "bind"}
    allowed = re.search(r"setsubtract\(keys\(alternative\),\[(.*?)\]\)", checks).group(1)
    assert set(re.findall(r"'(\w+)'", allowed)) == members
    # A bound parameter's name: the module's regex and the function's bytes.
    name = re.search(r'regex\("(\^\[[^"]+\]\+\$)",param\)', checks).group(1)
    template = (ROOT / "authorizer/src/route_template.rs").read_text(encoding="utf-8")
    extra = re.findall(r"b'(.)'", re.search(r"fn param_name.*?matches!\(b, (.*?)\)\)", template, re.S).group(1))
    assert "is_ascii_alphanumeric()" in re.search(r"fn param_name.*?\n\}", template, re.S).group(0)
    for candidate in ["tenant", "owner", "proxy", "a.b", "x-y", "p_1", "A9", "", "a b", "a/b", "x+", "{a}", "é", "a*", "a:b"]:
        rust = candidate != "" and all((c.isascii() and c.isalnum()) or c in extra for c in candidate)
        assert bool(re.fullmatch(name, candidate)) == rust, candidate
    # The demo's rules: routes of its scopes, parameters of those routes
    # (terraform test renders them; the authorizer's tests compile them).
    table = json.loads((INFRA / "api-routes.json").read_text(encoding="utf-8"))
    assert table["route_rules"]
    for route, alternatives in table["route_rules"].items():
        assert route in table["route_scopes"], route
        for alternative in alternatives:
            assert set(alternative) <= members, route
            for param in alternative.get("bind", {}):
                assert f"{{{param}}}" in route.split("/") or route.endswith(f"/{{{param}+}}"), (route, param)


def test_the_api_routes_and_the_default_route_scopes_agree():
    api = api_routes()
    scoped = default_route_scopes()
    protected = {k: r for k, r in api.items() if r["authorized"]}
    # Every scoped route is served by a protected API method ...
    for method, path, scopes in scoped:
        served = [k for k in protected if k.split(" ")[0] == method and api_pattern(k.split(" ", 1)[1]).match(sample(path))]
        assert served, f"ROUTE_SCOPES {method} {path} ({scopes}) has no API method"
    # ... every protected method grants something (else it is always 403) ...
    for key in protected:
        method, path = key.split(" ", 1)
        pattern = api_pattern(path)
        assert any(m == method and pattern.match(sample(p)) for m, p, _ in scoped), f"{key}: no scope grants it"
    # ... and no public method is one the authorizer guards.
    for key, r in api.items():
        if not r["authorized"]:
            method, path = key.split(" ", 1)
            assert not any(m == method and glob(p, sample(path)) for m, p, _ in scoped), key


@pytest.mark.parametrize("fn,source", [("issuer", "issuer/src/routes*"), ("backend", "backend/src/routes/mod.rs")])
def test_every_route_a_function_serves_is_reachable_through_the_api(fn, source):
    api = api_routes()
    for method, path in axum_routes(source):
        reaching = [k for k, r in api.items() if k.split(" ")[0] == method and api_pattern(k.split(" ", 1)[1]).match(sample(path))]
        assert reaching, f"{fn} serves {method} {path} but the API has no method for it"
        assert all(api[k]["function"] == fn for k in reaching), (method, path, reaching)


def test_the_authorizer_guards_the_api_with_the_bearer_form():
    authorizer = module_blocks("authorizer", "resource")["aws_api_gateway_authorizer"]["token"]
    assert one(authorizer["type"]) == "TOKEN"
    assert one(authorizer["identity_source"]) == "method.request.header.Authorization"
    assert one(authorizer["authorizer_result_ttl_in_seconds"]) == "${var.result_ttl_seconds}"
    assert one(module_call("authorizer")["result_ttl_seconds"]) == "${var.authorizer_cache_ttl_seconds}"
    assert one(module_call("authorizer")["api_type"]) == "rest"
    expression = re.compile(one(authorizer["identity_validation_expression"]))
    for good in ["Bearer abc.def.ghi", "bearer abc.def-_.g~+/h=", "BEARER  a.b.c"]:
        assert expression.match(good), good
    for bad in ["Basic dXNlcjpwdw==", "Bearer", "Bearer ", "Bearer a.b.c extra", "Token a.b.c", "Bearer a,b"]:
        assert not expression.match(bad), bad
    # Every authorized route's method is CUSTOM with the token authorizer;
    # the open ones are NONE with none, and they are exactly these: the
    # token and revocation endpoints (the caller authenticates itself there)
    # and the published documents (JWKS, discovery, status lists).
    methods = instances("aws_api_gateway_method")
    assert set(methods) == set(api_routes())
    for key, r in api_routes().items():
        method = methods[key]
        if r["authorized"]:
            assert chosen(one(method["authorization"])) == '"CUSTOM"', key
            assert chosen(one(method["authorizer_id"])) == "module.authorizer.authorizer_id", key
        else:
            assert chosen(one(method["authorization"])) == '"NONE"', key
            assert chosen(one(method["authorizer_id"])) is None, key
    public = sorted(k for k, r in api_routes().items() if not r["authorized"])
    assert public == [
        "GET /.well-known/{proxy+}", "GET /statuslists", "GET /statuslists/{proxy+}", "POST /revoke", "POST /token",
    ]


def chosen(value):
    """The branch a conditional whose condition `fill` made literal takes
    (`${true ? A : B}` is A); anything else as is. HCL's null reads as None."""
    match = re.fullmatch(r"\$\{(true|false) \? (.+) : (.+)\}", value) if isinstance(value, str) else None
    if not match:
        return value
    branch = match.group(2) if match.group(1) == "true" else match.group(3)
    return None if branch == "None" else branch


def test_the_deployment_is_redone_when_any_part_of_the_api_changes():
    triggers = one(root_blocks("resource")["aws_api_gateway_deployment"]["tollgate"]["triggers"])["redeployment"]
    for part in ["local.routes", "local.resource_ids", "aws_api_gateway_method.route",
                 "aws_api_gateway_integration.route", "module.authorizer.authorizer_id",
                 "var.authorizer_cache_ttl_seconds", "local.gateway_responses"]:
        assert part in triggers, part
    # Never whole resources: the provider reads unset maps and lists back
    # empty, so their hash changes on every refresh and every plan would
    # replace the deployment.
    assert "values(aws_" not in triggers and "aws_api_gateway_gateway_response" not in triggers


def test_lambda_permissions_are_scoped_by_source_arn():
    permissions = instances("aws_lambda_permission")
    assert set(permissions) == {"issuer", "backend", "backend_shelves", "rotation"}
    for name, p in permissions.items():
        assert one(p["source_arn"]).startswith("${"), name
        assert "*/*/*" not in one(p["source_arn"]), name
    assert one(permissions["rotation"]["source_arn"]) == "${aws_secretsmanager_secret.keyset.arn}"
    # API Gateway's: each function may be invoked for every method the
    # route table gives it, and the backend for nothing else (a source ARN
    # is .../stage/METHOD/path, `*` matching `/` too).
    stage = "${local.execute_api_arn}/${var.stage_name}/"
    granted = {}
    for name, p in permissions.items():
        if name == "rotation":
            continue
        function = re.fullmatch(r'\$\{aws_lambda_function\.fn\["([\w-]+)"\]\.function_name\}', one(p["function_name"])).group(1)
        assert one(p["source_arn"]).startswith(stage), name
        granted.setdefault(function, []).append(one(p["source_arn"]).removeprefix(stage))
    requests = {key: key.split(" ")[0] + sample(key.split(" ", 1)[1]) for key in api_routes()}
    for key, r in api_routes().items():
        assert any(glob(g, requests[key]) for g in granted[r["function"]]), f"{r['function']} may not be invoked for {key}"
    for key, r in api_routes().items():
        if r["function"] != "backend":
            assert not any(glob(g, requests[key]) for g in granted["backend"]), f"the backend may be invoked for {key}"
    # The authorizer: that API, as that authorizer, only.
    authorizer = module_blocks("authorizer", "resource")["aws_lambda_permission"]["api_gateway"]
    assert one(authorizer["principal"]) == "apigateway.amazonaws.com"
    assert one(authorizer["source_arn"]) == "${local.execution_arn}/authorizers/${local.authorizer_id}"


# ---------------------------------------------------------------- IAM

def resolve(value):
    """A root `local.NAME` reference as the local's value; anything else as is."""
    match = re.fullmatch(r"\$\{local\.(\w+)\}", value) if isinstance(value, str) else None
    return root_locals()[match.group(1)] if match else value


def policy_statements(fn: str) -> list[dict]:
    """Every statement the function's role is granted: its own-logs
    document's (instantiated for it) and its AWS calls' document's."""
    docs = root_blocks("data")["aws_iam_policy_document"]
    own_logs = fill(docs["own_logs"]["statement"], fn, {})
    return own_logs + (docs[POLICY[fn]]["statement"] if fn in POLICY else [])


@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_iam_grants_exactly_what_the_code_calls_on_exact_arns(fn):
    granted, logs = set(), set()
    for statement in policy_statements(fn):
        assert "effect" not in statement or one(statement["effect"]) == "Allow"
        assert "not_actions" not in statement and "not_resources" not in statement
        actions = set(resolve(one(statement["actions"])))
        resources = one(statement["resources"])
        for action in actions:
            assert "*" not in action, f"{fn}: wildcard action {action}"
        for resource in resources:
            assert resource.startswith("${") and ".arn" in resource, f"{fn}: {resource} is not a resource's ARN"
        if all(a.startswith("logs:") for a in actions):
            logs |= actions
            assert resources == [f'${{aws_cloudwatch_log_group.fn["{fn}"].arn}}:*'], f"{fn}: logs only on its own group"
        else:
            granted |= actions
    assert logs == {"logs:CreateLogStream", "logs:PutLogEvents"}, fn

    called = sdk_calls(fn)
    needed = called - NOT_ON_THE_FUNCTIONS_PATH
    if fn == "issuer":
        # Account writes are the CLI's: on the users table the issuer only reads.
        assert issuer_put_item_is_cli_only()
        on_users = [s for s in policy_statements(fn) if one(s["resources"]) == ["${aws_dynamodb_table.users.arn}"]]
        assert [set(resolve(one(s["actions"]))) for s in on_users] == [{"dynamodb:GetItem"}]
    assert granted <= called, f"{fn}: granted but never called: {sorted(granted - called)}"
    assert needed <= granted, f"{fn}: called but not granted: {sorted(needed - granted)}"


def test_the_authorizer_links_no_aws_sdk():
    assert sdk_calls("authorizer") == set()
    cargo = (ROOT / "authorizer/Cargo.toml").read_text(encoding="utf-8")
    assert "aws-sdk" not in cargo and "aws-config" not in cargo


def test_one_role_per_function_assumable_by_lambda_only():
    resources = root_blocks("resource")
    role = resources["aws_iam_role"]["fn"]
    assert one(role["for_each"]) == "${local.functions}"
    assert one(lambda_function()["role"]) == "${aws_iam_role.fn[each.key].arn}"
    # Every role has its own-logs policy ...
    docs = root_blocks("data")["aws_iam_policy_document"]
    own_logs = resources["aws_iam_role_policy"]["own_logs"]
    assert one(own_logs["for_each"]) == one(docs["own_logs"]["for_each"]) == "${local.functions}"
    assert one(own_logs["role"]) == "${aws_iam_role.fn[each.key].id}"
    assert one(own_logs["policy"]) == "${data.aws_iam_policy_document.own_logs[each.key].json}"
    # The functions wait for both, so that their first invocations can log.
    assert set(one(lambda_function()["depends_on"])) == {"${aws_iam_role_policy.fn}", "${aws_iam_role_policy.own_logs}"}
    # ... and each its AWS calls' policy.
    calls = instances("aws_iam_role_policy", "fn")
    assert {one(p["role"]) for p in calls.values()} == {f'${{aws_iam_role.fn["{fn}"].id}}' for fn in POLICY}
    for doc, p in calls.items():
        assert one(p["policy"]) == f"${{data.aws_iam_policy_document.{doc}.json}}"
    # The functions' roles trust Lambda only, and only for this account.
    assume = one(docs["assume_lambda"]["statement"])
    assert one(assume["actions"]) == ["sts:AssumeRole"]
    assert [(one(p["type"]), one(p["identifiers"])) for p in assume["principals"]] == [("Service", ["lambda.amazonaws.com"])]
    assert [(one(c["test"]), one(c["variable"]), one(c["values"])) for c in assume["condition"]] == [
        ("StringEquals", "aws:SourceAccount", ["${data.aws_caller_identity.current.account_id}"])
    ]
    assert one(role["assume_role_policy"]) == "${data.aws_iam_policy_document.assume_lambda.json}"


def test_the_authorizer_modules_role_writes_its_own_logs_only():
    data = module_blocks("authorizer", "data")["aws_iam_policy_document"]
    resources = module_blocks("authorizer", "resource")
    logs = one(data["own_logs"]["statement"])
    assert one(logs["actions"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert one(logs["resources"]) == ["${aws_cloudwatch_log_group.this.arn}:*"]
    # (dpop_replay: PutItem on the DPoP replay table, with dpop only;
    # test_the_authorizer_may_put_items_in_its_replay_table_and_nothing_else.)
    assert set(resources["aws_iam_role_policy"]) == {"own_logs", "network_interfaces", "dpop_replay"}, "no other policy on the role"
    assert "aws_iam_role_policy_attachment" not in resources
    # In a VPC only: the network interfaces Lambda attaches the function
    # through, nothing else (no logs beyond its own group, no data).
    interfaces = resources["aws_iam_role_policy"]["network_interfaces"]
    assert one(interfaces["count"]) == one(data["network_interfaces"]["count"]) == "${var.vpc_config == None ? 0 : 1}"
    assert one(interfaces["policy"]) == "${data.aws_iam_policy_document.network_interfaces[0].json}"
    actions = {a for statement in data["network_interfaces"]["statement"] for a in one(statement["actions"])}
    assert actions == {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:CreateNetworkInterface",
                       "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
    for statement in data["network_interfaces"]["statement"]:
        if one(statement["resources"]) == ["*"]:
            assert all(a.startswith("ec2:Describe") for a in one(statement["actions"])), "only Describe calls on *"
    assume = one(data["assume"]["statement"])
    assert [(one(p["type"]), one(p["identifiers"])) for p in assume["principals"]] == [("Service", ["lambda.amazonaws.com"])]
    assert [(one(c["variable"])) for c in assume["condition"]] == ["aws:SourceAccount"]
    assert one(resources["aws_lambda_function"]["this"]["role"]) == "${aws_iam_role.this.arn}"


def test_api_gateway_account_role_trusts_api_gateway_without_a_condition():
    """AWS's documented trust policy for API Gateway's account-level CloudWatch
    role has no condition, and API Gateway need not send aws:SourceAccount for it."""
    docs = root_blocks("data")["aws_iam_policy_document"]
    assume = one(docs["assume_apigateway"]["statement"])
    assert one(assume["actions"]) == ["sts:AssumeRole"]
    assert [(one(p["type"]), one(p["identifiers"])) for p in assume["principals"]] == [("Service", ["apigateway.amazonaws.com"])]
    assert "condition" not in assume
    role = root_blocks("resource")["aws_iam_role"]["apigateway_cloudwatch"]
    assert one(role["assume_role_policy"]) == "${data.aws_iam_policy_document.assume_apigateway.json}"


# ---------------------------------------------------------------- metrics

@cache
def emitted() -> dict[str, set[str]]:
    source = read(rust_files("authorizer/src", "issuer/src", "backend/src", "telemetry/src", "src"))
    metrics = set(re.findall(r"Metric::(?:count|new)\(\s*\"([A-Za-z]+)\"", source))
    decisions = set(re.findall(r"=> \"(allow|deny|unauthorized)\"", source))
    # The issuer's outcomes: the decision arms of its login and key-change
    # records, and the literal of a record that names one.
    issuer = (ROOT / "issuer/src/metrics.rs").read_text(encoding="utf-8")
    login = issuer[issuer.index("let decision = match result"):issuer.index("pub fn key_change")]
    decisions |= set(re.findall(r'=> "([a-z]+)"', login))
    decisions |= set(re.findall(r'=> \("([a-z]+)", ', issuer))
    decisions |= set(re.findall(r'Record::new\(\s*SERVICE,\s*"([a-z]+)"', issuer))
    reasons = set(re.findall(r"=> \"([a-z_]+)\",", (ROOT / "authorizer/src/error.rs").read_text(encoding="utf-8")))
    return {"metrics": metrics, "decisions": decisions, "reasons": reasons}


AWS_METRICS = {
    "AWS/Lambda": {"Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"},
    "AWS/ApiGateway": {"4XXError", "5XXError", "Count", "Latency", "IntegrationLatency"},
}


MONITORING = ["modules/monitoring/main.tf", "modules/authorizer-monitoring/main.tf"]


def monitoring_parts() -> tuple[str, str]:
    """The alarm definitions and the dashboard definitions of both
    monitoring modules (the root's and the authorizer's)."""
    alarms, dashboards = "", ""
    for path in MONITORING:
        text = (INFRA / path).read_text(encoding="utf-8")
        alarms += text[:text.index("# Dashboard")]
        dashboards += text[text.index("# Dashboard"):]
    return alarms, dashboards


def test_every_alarm_reads_a_metric_the_code_emits():
    alarms, _ = monitoring_parts()
    tollgate = set(re.findall(r'metric = "(\w+)"', alarms))
    assert tollgate, "no Tollgate metric in the alarms"
    assert tollgate <= emitted()["metrics"], sorted(tollgate - emitted()["metrics"])
    for namespace, name in re.findall(r'namespace = "(AWS/\w+)", metric_name = "(\w+)"', alarms):
        assert name in AWS_METRICS[namespace], (namespace, name)
    for decision in re.findall(r'Decision = "(\w+)"', alarms):
        assert decision in emitted()["decisions"], decision
    for reason in re.findall(r'Reason = "(\w+)"', alarms):
        assert reason in emitted()["reasons"], reason
    # The authorizer's Lambda Errors are its 401s: never alarmed on.
    assert 'var.function_names["authorizer"]' not in alarms


def test_every_dashboard_metric_is_emitted():
    _, dashboard = monitoring_parts()
    names = set(re.findall(r'\[local\.ns, "(\w+)"', dashboard))
    assert names <= emitted()["metrics"], sorted(names - emitted()["metrics"])
    for namespace, name in re.findall(r'\["(AWS/\w+)", "(\w+)"', dashboard):
        assert name in AWS_METRICS[namespace], (namespace, name)
    for reason in re.findall(r'"Reason", "(\w+)"', dashboard):
        assert reason in emitted()["reasons"], reason


def test_the_root_module_creates_every_alarm_and_the_dashboard():
    resources = root_blocks("resource")
    alarms = module_call("alarms")
    assert one(alarms["source"]) == "./modules/metric-alarms"
    assert one(alarms["alarms"]) == "${module.monitoring.alarms}"
    assert one(alarms["topic_arn"]) == "${var.alarm_topic_arn}"
    alarm = module_blocks("metric-alarms", "resource")["aws_cloudwatch_metric_alarm"]["this"]
    assert one(alarm["for_each"]) == "${toset(keys(var.alarms))}"
    for actions in ("alarm_actions", "ok_actions"):
        assert "var.topic_arn" in one(alarm[actions]), actions
    assert one(resources["aws_cloudwatch_dashboard"]["tollgate"]["dashboard_body"]) == "${module.monitoring.dashboard_body}"


# ---------------------------------------------------------------- variables, outputs, versions

# Names users and the other modules rely on (docs/reference.md lists every
# one, infra/tests/test_reference.py checks that list): removing one breaks them.
PINNED_VARIABLES = {"name", "stage_name", "signing_alg", "token_ttl_seconds", "authorizer_cache_ttl_seconds",
                    "rotation_schedule", "log_retention_days", "alarm_topic_arn", "lambda_dir"}
PINNED_OUTPUTS = {"api_url", "issuer_url", "jwks_url", "keyset_secret_arn", "users_table", "books_table", "dashboard_url"}


def test_variables_have_descriptions_types_and_the_pinned_defaults():
    variables = {k: v for block in hcl("variables.tf")["variable"] for k, v in block.items()}
    assert PINNED_VARIABLES <= set(variables)
    for name, v in variables.items():
        assert one(v.get("description", [""])).strip(), f"{name}: no description"
        assert "type" in v, f"{name}: no type"
    assert one(variables["name"]["default"]) == "tollgate"
    assert one(variables["stage_name"]["default"]) == "prod"
    assert one(variables["signing_alg"]["default"]) == "RS256"
    assert one(variables["alarm_topic_arn"]["default"]) is None
    validated = {name for name, v in variables.items() if "validation" in v}
    assert validated >= PINNED_VARIABLES
    # The settings module tests these very validations: it uses this file.
    assert (INFRA / "modules/settings/variables.tf").resolve() == (INFRA / "variables.tf").resolve()
    settings_call = next(m for m in hcl("main.tf")["module"] if "settings" in m)["settings"]
    assert set(settings_call) - {"source", "__start_line__", "__end_line__"} == set(variables)


def test_outputs_include_the_pinned_ones():
    outputs = {k for block in hcl("outputs.tf")["output"] for k in block}
    assert PINNED_OUTPUTS <= outputs


def test_versions_pin_terraform_and_the_aws_provider():
    terraform = one(hcl("versions.tf")["terraform"])
    assert re.search(r">=\s*1\.\d+", one(terraform["required_version"]))
    aws = one(one(terraform["required_providers"])["aws"])
    assert aws["source"] == "hashicorp/aws"
    assert re.fullmatch(r"~> \d+\.\d+", aws["version"])


PINNED_MODULE_VARIABLES = {
    "name", "lambda_zip", "issuer", "audiences", "trusted_issuers", "jwks_uri", "route_scopes", "scope_claims",
    "context_claims", "principal_claim", "required_typ", "allow_id_tokens", "jwks_max_age_seconds",
    "jwks_max_stale_seconds", "memory_size", "log_retention_days", "tags", "api_type", "rest_api_id",
    "http_api_id", "result_ttl_seconds", "simple_responses", "dpop",
}
PINNED_MODULE_OUTPUTS = {"authorizer_id", "function_name", "function_arn", "role_arn", "log_group_name", "replay_table_name"}


def test_the_authorizer_module_has_the_pinned_inputs_and_outputs():
    variables = {k: v for block in hcl("modules/authorizer/variables.tf")["variable"] for k, v in block.items()}
    assert PINNED_MODULE_VARIABLES <= set(variables), sorted(PINNED_MODULE_VARIABLES - set(variables))
    for name, v in variables.items():
        assert one(v.get("description", [""])).strip(), f"{name}: no description"
        assert "type" in v, f"{name}: no type"
    assert one(variables["memory_size"]["default"]) == 128
    outputs = {k for block in hcl("modules/authorizer/outputs.tf")["output"] for k in block}
    assert PINNED_MODULE_OUTPUTS <= outputs
    readme = (INFRA / "modules/authorizer/README.md").read_text(encoding="utf-8")
    for name in sorted(set(variables) | outputs):
        assert f"`{name}`" in readme, f"modules/authorizer/README.md does not document {name}"


ENDPOINT_TYPES = {"REGIONAL", "EDGE", "PRIVATE"}


def root_variables() -> dict:
    return {k: v for block in hcl("variables.tf")["variable"] for k, v in block.items()}


def conditions(variable: dict) -> list[str]:
    return [one(v["condition"]) for v in variable.get("validation", [])]


def test_the_endpoint_type_is_validated_with_its_vpc_settings():
    variables = root_variables()
    endpoint_type = variables["endpoint_type"]
    assert one(endpoint_type["default"]) == "REGIONAL"
    assert one(endpoint_type["nullable"]) is False
    assert [set(re.findall(r"'([A-Z]+)'", c)) for c in conditions(endpoint_type)] == [ENDPOINT_TYPES]
    # PRIVATE needs at least one execute-api VPC endpoint, the others none ...
    vpce = variables["vpc_endpoint_ids"]
    assert one(vpce["default"]) == []
    checks = conditions(vpce)
    assert any("vpce-" in c for c in checks), "VPC endpoint ids are checked for their form"
    assert 'var.endpoint_type == "PRIVATE" == length(var.vpc_endpoint_ids) > 0' in "".join(checks)
    # ... and the authorizer in the VPC, to reach the private API's own JWKS.
    vpc = variables["authorizer_vpc_config"]
    assert one(vpc["default"]) is None
    assert conditions(vpc) == ['${var.endpoint_type != "PRIVATE" || var.authorizer_vpc_config != None}']
    # The ids themselves are the authorizer module's to check (its vpc_config).
    module = {k: v for block in hcl("modules/authorizer/variables.tf")["variable"] for k, v in block.items()}
    assert one(vpc["type"]) == one(module["vpc_config"]["type"])
    assert "subnet-" in conditions(module["vpc_config"])[0] and "sg-" in conditions(module["vpc_config"])[0]


def test_the_api_is_of_the_endpoint_type_and_a_private_one_answers_its_vpc_endpoints_only():
    resources = root_blocks("resource")
    assert local("api.tf", "private_api") == '${var.endpoint_type == "PRIVATE"}'
    endpoint = one(resources["aws_api_gateway_rest_api"]["tollgate"]["endpoint_configuration"])
    assert one(endpoint["types"]) == ["${var.endpoint_type}"]
    assert one(endpoint["vpc_endpoint_ids"]) == "${local.private_api ? var.vpc_endpoint_ids : None}"
    # The resource policy: Allow, then Deny to any source but the endpoints.
    policy = resources["aws_api_gateway_rest_api_policy"]["private_api"]
    document = root_blocks("data")["aws_iam_policy_document"]["private_api"]
    assert one(policy["count"]) == one(document["count"]) == "${local.private_api ? 1 : 0}"
    assert one(policy["policy"]) == "${data.aws_iam_policy_document.private_api[0].json}"
    allow, deny = document["statement"]
    assert "effect" not in allow and one(allow["actions"]) == one(deny["actions"]) == ["execute-api:Invoke"]
    assert one(deny["effect"]) == "Deny"
    assert [(one(c["test"]), one(c["variable"]), one(c["values"])) for c in deny["condition"]] == [
        ("StringNotEquals", "aws:SourceVpce", "${var.vpc_endpoint_ids}")
    ]
    # A private API deploys only with its policy, which takes effect at a deployment.
    deployment = resources["aws_api_gateway_deployment"]["tollgate"]
    assert "${aws_api_gateway_rest_api_policy.private_api}" in one(deployment["depends_on"])
    assert "aws_api_gateway_rest_api_policy.private_api[0].policy" in one(deployment["triggers"])["redeployment"]
    # The authorizer runs where the private API's JWKS answers.
    assert one(module_call("authorizer")["vpc_config"]) == "${var.authorizer_vpc_config}"
    authorizer = module_blocks("authorizer", "resource")["aws_lambda_function"]["this"]
    assert one(one(authorizer["dynamic"])["vpc_config"]["for_each"]) == "${var.vpc_config == None ? [] : ['${var.vpc_config}']}"


def test_the_outputs_follow_the_endpoint_type():
    outputs = {k: v for block in hcl("outputs.tf")["output"] for k, v in block.items()}
    assert one(outputs["api_url"]["value"]) == "${aws_api_gateway_stage.tollgate.invoke_url}"
    assert one(outputs["vpc_endpoint_urls"]["value"]) == "${module.environment.vpc_endpoint_urls}"
    assert one(outputs["endpoint_note"]["value"]) == "${module.environment.endpoint_note}"
    call = module_call("environment")
    assert one(call["endpoint_type"]) == "${var.endpoint_type}"
    assert one(call["vpc_endpoint_ids"]) == "${var.vpc_endpoint_ids}"
    # A note for every type the variable accepts, and the per-endpoint URL
    # form of a private API.
    notes = local("modules/environment/main.tf", "endpoint_notes")
    assert set(notes) - {"__start_line__", "__end_line__"} == ENDPOINT_TYPES
    # (hcl2 quotes a string with a function call in it as "${"...")
    assert all(note.removeprefix('${"').startswith(f"{kind}: ") for kind, note in notes.items() if kind in ENDPOINT_TYPES)
    urls = local("modules/environment/main.tf", "vpc_endpoint_urls")
    assert "https://${var.api_id}-${id}.execute-api.${var.region}.${var.url_suffix}/${var.stage_name}" in urls


def test_http_apis_are_said_to_be_regional_where_the_module_serves_one():
    """HTTP APIs have no EDGE or PRIVATE endpoint type: every page that
    shows the module with api_type = "http" says so."""
    for page in ["modules/authorizer/README.md", "examples/http-api/README.md", "examples/cognito/README.md"]:
        text = (INFRA / page).read_text(encoding="utf-8")
        assert "HTTP APIs are regional" in text, page


def test_http_api_authorizers_read_the_token_from_the_identity_sources_only():
    resources = module_blocks("authorizer", "resource")
    request = resources["aws_apigatewayv2_authorizer"]["request"]
    assert one(request["authorizer_type"]) == "REQUEST"
    assert one(request["authorizer_payload_format_version"]) == "2.0"
    assert one(request["enable_simple_responses"]) == "${var.simple_responses}"
    assert one(request["identity_sources"]) == "${local.identity_sources}"
    # With simple responses the route key joins the cache key: a cached
    # `true` is never reused for another route.
    # With DPoP the proof joins it too: the authorizer refuses a proof that
    # is not among the identity sources. With route rules, the path joins
    # it after the route key when a rule binds a parameter: the authorizer
    # answers `true` for a bound route only when the path is among them.
    sources = local("modules/authorizer/api.tf", "identity_sources").replace(" ", "")
    assert sources == ("${concat(['$request.header.Authorization'],var.dpop==None?[]:['$request.header.DPoP'],"
                       "var.simple_responses?['$context.routeKey']:[],"
                       "var.simple_responses&&local.rules_bind_paths?['$context.path']:[])}")
    # The context variables are the ones the authorizer's refusals name.
    refusals = "\n".join(strip_tests(f.read_text(encoding="utf-8")) for f in sorted((ROOT / "authorizer/src").glob("*.rs")))
    for variable in ("$context.routeKey", "$context.path"):
        assert re.search(r'"[^"]*' + re.escape(variable), refusals), f"the authorizer names no {variable}"
    token = resources["aws_api_gateway_authorizer"]["token"]
    expression = re.compile(one(token["identity_validation_expression"]))
    assert expression.match("Bearer a.b.c") and not expression.match("Basic x")


def test_every_example_protects_its_routes_with_the_module():
    examples = sorted(p for p in (INFRA / "examples").iterdir() if p.is_dir())
    assert [p.name for p in examples] == ["cognito", "dpop", "http-api", "rest-api"]
    for example in examples:
        calls = [block for tf in sorted(example.glob("*.tf")) for block in hcl(str(tf.relative_to(INFRA))).get("module", [])]
        authorizers = [c[name] for c in calls for name in c if one(c[name]["source"]) == "../../modules/authorizer"]
        assert len(authorizers) == 1, example.name
        assert (example / "README.md").is_file(), example.name


# ---------------------------------------------------------------- DPoP in the authorizer module

def module_variables() -> dict:
    return {k: v for block in hcl("modules/authorizer/variables.tf")["variable"] for k, v in block.items()}


def replay_table_code() -> str:
    return strip_tests((ROOT / "dpop/src/dynamo.rs").read_text(encoding="utf-8"))


def test_the_dpop_input_takes_what_the_authorizer_accepts():
    dpop = module_variables()["dpop"]
    assert one(dpop["default"]) is None, "DPoP off unless asked"
    type_ = one(dpop["type"])
    assert re.search(r"'mode': '\$\{string\}'", type_), "mode has no default: a choice"
    assert "'public_base_urls': '${optional(list(string),[])}'" in type_
    assert "'replay_table': '${optional(bool,True)}'" in type_
    # The algorithms default to the authorizer's DPOP_ALGORITHMS default ...
    default_algorithms = re.search(r"'algorithms': \"\$\{optional\(list\(string\),\[(.*?)\]\)\}\"", type_).group(1)
    settings = (ROOT / "dpop/src/settings.rs").read_text(encoding="utf-8")
    code_default = re.search(r"DEFAULT_ALGORITHMS: \[Algorithm; \d\] = \[(.*?)\];", settings, re.S).group(1)
    assert re.findall(r"'(\w+)'", default_algorithms) == re.findall(r"Algorithm::(\w+)", code_default)
    # ... and may be any the jose crate names (the asymmetric JWS algorithms).
    jose = (ROOT / "jose/src/algorithm.rs").read_text(encoding="utf-8")
    names = set(re.findall(r'"(\w+)" => Algorithm::\w+', function_body_of(jose, "from_name")))
    checks = conditions(dpop)
    listed = next(c for c in checks if "var.dpop.algorithms" in c)
    assert set(re.findall(r"'(\w+)'", listed)) == names
    # The modes are the authorizer's, but off (which is dpop = null).
    modes = (ROOT / "authorizer/src/sender_settings.rs").read_text(encoding="utf-8")
    code_modes = set(re.findall(r'"(\w+)" => Some\(Self::\w+\)', modes))
    assert code_modes == {"off", "if_bound", "required"}
    mode_check = next(c for c in checks if "var.dpop.mode)" in c)
    assert set(re.findall(r"'(\w+)'", mode_check)) == code_modes - {"off"}
    # Refused at plan time: a cached DPoP answer, and if_bound on an HTTP API.
    assert "${var.dpop == None ? True : var.result_ttl_seconds == 0}" in checks
    assert '${var.dpop == None ? True : var.api_type != "http" || var.dpop.mode == "required"}' in checks


def function_body_of(source: str, name: str) -> str:
    start = source.index(f"fn {name}(")
    return source[start:source.index("\n    }\n", start)]


def test_the_dpop_settings_reach_the_function():
    module = (INFRA / "modules/authorizer/main.tf").read_text(encoding="utf-8")
    body = module[module.index("  environment = merge("):module.index("  api_id =")]
    assert 'var.dpop == null ? { DPOP_MODE = "off" } : merge(' in body, "DPoP off without dpop"
    assert 'DPOP_MODE = var.dpop.mode, DPOP_ALGORITHMS = join(",", var.dpop.algorithms)' in body
    assert "{ DPOP_PUBLIC_BASE_URLS = jsonencode(var.dpop.public_base_urls) }" in body
    assert "local.replay_table ? { DPOP_REPLAY_TABLE = aws_dynamodb_table.dpop_replay[0].name } : {}" in body
    # The algorithms setting is a comma-separated list, the base URLs JSON.
    source = function_source("authorizer")
    assert re.search(r'\.list\(\s*"DPOP_ALGORITHMS"\s*\)', source)
    assert 'settings.text("DPOP_PUBLIC_BASE_URLS")' in source and "serde_json::from_str(json)" in source


def test_the_replay_table_is_the_one_the_code_writes():
    table = module_blocks("authorizer", "resource")["aws_dynamodb_table"]["dpop_replay"]
    assert local("modules/authorizer/dpop.tf", "replay_table") == "${var.dpop == None ? False : var.dpop.replay_table}"
    assert one(table["count"]) == "${local.replay_table ? 1 : 0}"
    code = replay_table_code()
    # The item the code puts: its hash key and its expiry, a number.
    item = re.search(r'"Item": \{"(\w+)": \{"S": key\}, "(\w+)": \{"N": ', code)
    assert item, "dpop/src/dynamo.rs no longer puts {pk, purge_at}"
    key, expiry = item.groups()
    assert f'"ConditionExpression": "attribute_not_exists({key})"' in code, "first writer wins"
    assert one(table["hash_key"]) == key
    assert [(one(a["name"]), one(a["type"])) for a in table["attribute"]] == [(key, "S")]
    assert one(one(table["ttl"])["attribute_name"]) == expiry and one(one(table["ttl"])["enabled"]) is True
    assert one(table["billing_mode"]) == "PAY_PER_REQUEST"
    assert one(one(table["server_side_encryption"])["enabled"]) is True
    # Records matter for a minute: nothing worth restoring (the skip says so).
    assert one(one(table["point_in_time_recovery"])["enabled"]) is False
    text = (INFRA / "modules/authorizer/dpop.tf").read_text(encoding="utf-8")
    assert "#checkov:skip=CKV_AWS_28:Point-in-time recovery off" in text


def test_the_authorizer_may_put_items_in_its_replay_table_and_nothing_else():
    # The code's one DynamoDB operation, by its X-Amz-Target ...
    targets = set(re.findall(r'"DynamoDB_20120810\.(\w+)"', replay_table_code()))
    assert targets == {"PutItem"}, targets
    # ... is the one action granted, on the replay table's ARN alone.
    document = module_blocks("authorizer", "data")["aws_iam_policy_document"]["dpop_replay"]
    assert one(document["count"]) == "${local.replay_table ? 1 : 0}"
    statements = document["statement"]
    assert len(statements) == 1 and "effect" not in statements[0] and "condition" not in statements[0]
    assert one(statements[0]["actions"]) == [f"dynamodb:{t}" for t in sorted(targets)]
    assert one(statements[0]["resources"]) == ["${aws_dynamodb_table.dpop_replay[0].arn}"]
    policy = module_blocks("authorizer", "resource")["aws_iam_role_policy"]["dpop_replay"]
    assert one(policy["role"]) == "${aws_iam_role.this.id}"
    assert one(policy["policy"]) == "${data.aws_iam_policy_document.dpop_replay[0].json}"
    function = module_blocks("authorizer", "resource")["aws_lambda_function"]["this"]
    assert "${aws_iam_role_policy.dpop_replay}" in one(function["depends_on"])
    # No other module document names DynamoDB.
    for name, other in module_blocks("authorizer", "data")["aws_iam_policy_document"].items():
        if name != "dpop_replay":
            assert "dynamodb" not in json.dumps(other), name


def test_dpop_never_reaches_a_token_authorizer_and_is_never_cached():
    resources = module_blocks("authorizer", "resource")
    token = resources["aws_api_gateway_authorizer"]["token"]
    request = resources["aws_api_gateway_authorizer"]["request"]
    assert one(token["count"]) == '${var.api_type == "rest" && var.dpop == None ? 1 : 0}'
    assert one(request["count"]) == '${var.api_type == "rest" && var.dpop != None ? 1 : 0}'
    assert one(request["type"]) == "REQUEST"
    # The credential of a REST REQUEST event is read from the Authorization
    # header, which must therefore be an identity source.
    assert "for REST `REQUEST`\n    /// events the `Authorization` header" in (ROOT / "authorizer/src/events.rs").read_text(encoding="utf-8")
    assert one(request["identity_source"]) == '${join(",",local.rest_identity_sources)}'
    assert local("modules/authorizer/api.tf", "rest_identity_sources").replace(" ", "") == (
        "${concat(['method.request.header.Authorization'],"
        "try(var.dpop.mode,None)==\"required\"?['method.request.header.DPoP']:[])}")
    # The TTL is the variable's, which dpop holds at 0.
    assert one(request["authorizer_result_ttl_in_seconds"]) == "${var.result_ttl_seconds}"
    assert one(resources["aws_apigatewayv2_authorizer"]["request"]["authorizer_result_ttl_in_seconds"]) == "${var.result_ttl_seconds}"


def test_rest_apis_with_dpop_challenge_for_it():
    response = module_blocks("authorizer", "resource")["aws_api_gateway_gateway_response"]["dpop_unauthorized"]
    assert one(response["count"]) == '${var.api_type == "rest" && var.dpop != None ? 1 : 0}'
    assert (one(response["response_type"]), one(response["status_code"])) == ("UNAUTHORIZED", "401")
    assert one(response["response_parameters"]) == {"gatewayresponse.header.WWW-Authenticate": "'${local.dpop_challenge}'"}
    challenge = local("modules/authorizer/dpop.tf", "dpop_challenge")
    assert 'DPoP algs=\\"%s\\"' in challenge and 'join(" ",var.dpop.algorithms)' in challenge


def test_the_dpop_example_calls_the_module_with_dpop_and_no_cache():
    call = one(hcl("examples/dpop/main.tf")["module"])["authorizer"]
    assert one(call["api_type"]) == "rest"
    assert one(call["dpop"]) == "${local.dpop}"
    assert one(call["result_ttl_seconds"]) == 0
    assert local("examples/dpop/main.tf", "dpop")["mode"] == "required"
    outputs = {k for block in hcl("modules/authorizer/outputs.tf")["output"] for k in block}
    assert "replay_table_name" in outputs


def test_tfvars_example_sets_only_known_variables():
    variables = {k for block in hcl("variables.tf")["variable"] for k in block}
    with open(INFRA / "terraform.tfvars.example", encoding="utf-8") as f:
        example = hcl2.load(f)
    assert set(example) <= variables, set(example) - variables
    assert "rotation_schedule" in example and "lambda_dir" in example


def test_tables_are_on_demand_with_recovery_and_encryption():
    tables = root_blocks("resource")["aws_dynamodb_table"]
    assert set(tables) == {"books", "users", "status"}
    keys = {"books": '"id"', "users": '"key"', "status": '"pk"'}
    for name, t in tables.items():
        assert one(t["billing_mode"]) == "PAY_PER_REQUEST"
        assert one(one(t["point_in_time_recovery"])["enabled"]) is True
        assert one(one(t["server_side_encryption"])["enabled"]) is True
        # The key schema the stores use.
        assert f'"{one(t["hash_key"])}"' == keys[name]
    assert 'create_table(client, table, "id")' in (ROOT / "backend/src/store/dynamo.rs").read_text(encoding="utf-8")
    assert 'create_table(client, table, "key")' in (ROOT / "issuer/src/accounts/dynamo.rs").read_text(encoding="utf-8")
    # Token status: hash `pk`, sort `sk`, and `purge_at` as the TTL attribute.
    status = tables["status"]
    assert one(status["range_key"]) == "sk"
    assert one(one(status["ttl"])["attribute_name"]) == "purge_at" and one(one(status["ttl"])["enabled"]) is True
    store = (ROOT / "issuer/src/status/dynamo.rs").read_text(encoding="utf-8")
    assert 'create_table_with_sort_key(client, table, "pk", "sk")' in store
    assert '"purge_at"' in store
    shared = (ROOT / "aws-clients/src/lib.rs").read_text(encoding="utf-8")
    assert "ScalarAttributeType::S" in shared and "KeyType::Hash" in shared


def test_log_groups_have_retention():
    groups = root_blocks("resource")["aws_cloudwatch_log_group"]
    for name, g in groups.items():
        assert one(g["retention_in_days"]) == "${var.log_retention_days}", name
    assert one(lambda_function()["logging_config"])["log_group"] == ["${aws_cloudwatch_log_group.fn[each.key].name}"]


def test_checkov_skips_carry_a_reason():
    for tf in INFRA.rglob("*.tf"):
        for line in tf.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" in line:
                m = re.search(r"#checkov:skip=(CKV2?_AWS_\d+):(.{20,})", line)
                assert m, f"{tf.name}: skip without a reason: {line.strip()}"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
