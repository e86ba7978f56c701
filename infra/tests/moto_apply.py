"""`terraform apply` of the root module and of every example, for real,
against a moto_server on loopback (run by `make infra-apply`, part of
`make test`).

For each configuration, in a scratch copy of infra/ with small stand-in
zips and a provider override file that points every AWS endpoint at moto
(the override exists only in the scratch copy): `init -plugin-dir`,
`validate`, `plan`, `apply`, a second `plan` that must show no change but
the known moto gaps below, the outputs and the resources checked through
boto3, then `destroy` (turning the tables' deletion protection off first,
as README's teardown does). The root module is applied with its default
endpoint_type (REGIONAL), then applied again as EDGE (a second plan as
clean), and planned, not applied, as PRIVATE: moto cannot hold a private
API (it returns a resource policy unescaped, which the provider fails to
read back, and drops the VPC endpoint ids an update adds). Skipped, saying
so, only where the AWS provider is not installed in /opt/tf-plugins (the
registry is out of reach here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zipfile
from pathlib import Path

import boto3

INFRA = Path(__file__).resolve().parent.parent
ROOT = INFRA.parent
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))
PROVIDER = PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws"
VENV_BIN = Path(sys.executable).parent
REGION = "us-east-1"
FUNCTIONS = ("authorizer", "issuer", "issuer-rotation", "backend")

# What a second plan may still want to change, and why: moto does not store
# these, so they read back differing from the configuration. Any other
# difference, and any replacement, fails the test.
MOTO_GAPS = {
    ("aws_lambda_function", "logging_config"): "moto does not store a function's logging_config",
    ("aws_secretsmanager_secret_rotation", "rotation_rules"):
        "moto reads only AutomaticallyAfterDays: a rotation schedule_expression reads back as disabled",
    ("aws_secretsmanager_secret_rotation", "rotation_lambda_arn"):
        "part of the same gap: moto reads the rotation back as disabled, with no function",
    ("aws_api_gateway_authorizer", "identity_validation_expression"):
        "moto drops an authorizer's identity_validation_expression on create",
}


def changed_attributes(change: dict) -> set[str]:
    """The top-level attributes a planned resource change changes."""
    before = change["change"].get("before") or {}
    after = change["change"].get("after") or {}
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def beyond_moto_gaps(plan: dict) -> list[dict]:
    """A plan's resource changes other than reads and updates of nothing
    but moto's known gaps."""
    beyond = []
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        gaps = {attribute for (t, attribute) in MOTO_GAPS if t == change["type"]}
        if actions in (["no-op"], ["read"]) or (actions == ["update"] and changed_attributes(change) <= gaps):
            continue
        beyond.append(change)
    return beyond


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stand_in_zip(path: Path) -> Path:
    """A zip holding an executable `bootstrap`: enough to create a function
    (moto runs none without Docker)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, "#!/bin/sh\nexit 1\n")
    return path


OVERRIDE = """provider "aws" {{
  region                      = "{region}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
{endpoints}
  }}
}}
"""
SERVICES = ("apigateway", "apigatewayv2", "cloudwatch", "cognitoidp", "dynamodb", "ec2", "iam", "lambda", "logs",
            "secretsmanager", "sns", "sts")


class Moto:
    """A moto_server on a free loopback port, with AWS managed policies."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="moto-apply-", suffix=".log", delete=False)
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto_server did not start: {Path(self.log.name).read_text()[-2000:]}")

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self.log.name)


class Configuration:
    """One Terraform configuration in the scratch copy of infra/."""

    def __init__(self, scratch: Path, relative: str, moto: Moto, variables: dict[str, str]) -> None:
        self.dir = scratch / "infra" / relative
        self.name = relative or "root module"
        self.variables = variables
        endpoints = "\n".join(f'    {s:<14} = "{moto.url}"' for s in SERVICES)
        (self.dir / "zz_moto_override.tf").write_text(OVERRIDE.format(region=REGION, endpoints=endpoints))
        cli_config = scratch / "terraformrc"
        cli_config.write_text("")
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and not k.startswith("TF_")
        } | {
            "TF_CLI_CONFIG_FILE": str(cli_config), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        }

    def terraform(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        command = ["terraform", f"-chdir={self.dir}", args[0]]
        # Variables go to plan, destroy and an apply without a saved plan;
        # an apply of a saved plan takes none.
        if args[0] in ("plan", "destroy") or args[:2] == ("apply", "-auto-approve"):
            command += [f"-var={k}={v}" for k, v in self.variables.items()]
        command += args[1:]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=900)
        print(f"    terraform {args[0]}: {time.monotonic() - started:.1f} s", flush=True)
        if check and result.returncode not in (0, 2):
            raise AssertionError(f"{self.name}: terraform {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def planned(self, plan_file: str, *more: str) -> dict:
        """`plan -out=plan_file` (with `more` arguments, such as -var
        overrides) as `terraform show -json` shows it."""
        self.terraform("plan", f"-out={plan_file}", "-detailed-exitcode", *more)
        return json.loads(self.terraform("show", "-json", plan_file).stdout)


    def outputs(self) -> dict:
        shown = self.terraform("output", "-json")
        return {name: o["value"] for name, o in json.loads(shown.stdout).items()}


@unittest.skipUnless(PROVIDER.is_dir() and shutil.which("terraform"),
                     f"SKIPPED: no hashicorp/aws provider in {PLUGIN_DIR} (or no terraform): "
                     "terraform apply against moto cannot run here")
class ApplyAgainstMoto(unittest.TestCase):
    """The root module and each example: apply, plan again, check, destroy."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.moto = Moto()
        cls.scratch = Path(tempfile.mkdtemp(prefix="tollgate-apply-"))
        shutil.copytree(INFRA, cls.scratch / "infra",
                        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "__pycache__"))
        cls.lambda_dir = cls.scratch / "lambda"
        for fn in FUNCTIONS:
            stand_in_zip(cls.lambda_dir / fn / "bootstrap.zip")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.moto.stop()
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def cycle(self, relative: str, variables: dict[str, str], check, before_destroy=None, then=None) -> None:
        """init, validate, plan, apply, plan again, `check(outputs)`,
        `then(config)` (more of the same state), destroy."""
        config = Configuration(self.scratch, relative, self.moto, variables)
        print(f"\n  {config.name}:", flush=True)
        config.terraform("init", f"-plugin-dir={PLUGIN_DIR}")
        config.terraform("validate")
        config.terraform("plan", "-out=first.tfplan")
        try:
            config.terraform("apply", "first.tfplan")
            self.assert_second_plan_clean(config)
            check(config.outputs())
            if then:
                then(config)
        finally:
            if before_destroy:
                before_destroy()
            destroyed = config.terraform("destroy", "-auto-approve", check=False)
            self.assertEqual(destroyed.returncode, 0, f"{config.name}: destroy failed:\n{destroyed.stdout[-3000:]}\n{destroyed.stderr[-3000:]}")

    def assert_second_plan_clean(self, config: Configuration) -> None:
        """A plan after an apply changes nothing but moto's known gaps."""
        unexpected = [f"{c['address']}: {c['change']['actions']} {sorted(changed_attributes(c))}"
                      for c in beyond_moto_gaps(config.planned("second.tfplan"))]
        self.assertEqual(unexpected, [], f"{config.name}: a second plan wants changes beyond moto's gaps")

    def apply_variant(self, config: Configuration, more: dict[str, str], check) -> None:
        """The applied configuration again with `more` variables (kept for
        destroy): apply, a second plan as clean as the first's, `check(outputs)`."""
        config.variables = config.variables | more
        print(f"  {config.name}, {more}:", flush=True)
        config.terraform("apply", "-auto-approve")
        self.assert_second_plan_clean(config)
        check(config.outputs())

    def function(self, name: str) -> dict:
        return self.moto.client("lambda").get_function(FunctionName=name)["Configuration"]

    def assert_lambda(self, name: str) -> dict:
        function = self.function(name)
        self.assertEqual(function["Architectures"], ["arm64"], name)
        self.assertEqual((function["Runtime"], function["Handler"]), ("provided.al2023", "bootstrap"), name)
        return function

    def assert_invoked_only_by(self, function_name: str, api_id: str, authorizer_id: str) -> None:
        policy = json.loads(self.moto.client("lambda").get_policy(FunctionName=function_name)["Policy"])
        arns = [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]]
        self.assertEqual(len(arns), 1, arns)
        self.assertRegex(arns[0], rf"^arn:aws:execute-api:{REGION}:\d{{12}}:{api_id}/authorizers/{authorizer_id}$")

    def assert_own_logs_only(self, function_name: str) -> None:
        iam = self.moto.client("iam")
        role = self.function(function_name)["Role"].rsplit("/", 1)[1]
        self.assertEqual(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [])
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        self.assertEqual(len(names), 1, names)
        document = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
        statements = document["Statement"]
        self.assertEqual([sorted(s["Action"]) for s in statements], [["logs:CreateLogStream", "logs:PutLogEvents"]])
        self.assertTrue(statements[0]["Resource"].endswith(f":log-group:/aws/lambda/{function_name}:*"), statements)

    def test_the_root_module(self) -> None:
        dynamodb = self.moto.client("dynamodb")
        tables = ("tollgate-books", "tollgate-users", "tollgate-status")

        def check(outputs: dict) -> None:
            api = re.fullmatch(rf"https://(\w+)\.execute-api\.{REGION}\.amazonaws\.com/prod", outputs["api_url"])
            self.assertIsNotNone(api, outputs["api_url"])
            api_id = api.group(1)
            self.assertEqual(outputs["issuer_url"], outputs["api_url"])
            self.assertEqual(outputs["jwks_url"], f"{outputs['issuer_url']}/.well-known/jwks.json")
            self.assertEqual(outputs["token_url"], f"{outputs['issuer_url']}/token")
            self.assertEqual((outputs["books_table"], outputs["users_table"], outputs["status_table"]), tables)
            self.assertEqual(outputs["function_names"], {fn: f"tollgate-{fn}" for fn in FUNCTIONS})
            self.assertTrue(outputs["keyset_secret_arn"].startswith(f"arn:aws:secretsmanager:{REGION}:"))
            self.assertTrue(outputs["dashboard_url"].endswith("#dashboards/dashboard/tollgate"))
            for fn in FUNCTIONS:
                self.assert_lambda(f"tollgate-{fn}")
            env = self.function("tollgate-authorizer")["Environment"]["Variables"]
            self.assertEqual((env["JWT_ISSUER"], env["JWKS_URI"]), (outputs["issuer_url"], outputs["jwks_url"]))
            self.assertEqual((env["JWT_REQUIRED_TYP"], env["STATUS_LIST_CHECK"]), ("at+jwt", "required"))
            # The demo's route table reaches the authorizer: its scopes and
            # its rules (the shelf bound to the caller), as the JSON holds them.
            route_table = json.loads((INFRA / "api-routes.json").read_text(encoding="utf-8"))
            self.assertEqual(json.loads(env["ROUTE_SCOPES"]), route_table["route_scopes"])
            self.assertEqual(json.loads(env["ROUTE_RULES"]), route_table["route_rules"])
            issuer = self.function("tollgate-issuer")["Environment"]["Variables"]
            self.assertEqual((issuer["STATUS_TABLE"], issuer["USERS_TABLE"]), ("tollgate-status", "tollgate-users"))
            authorizers = self.moto.client("apigateway").get_authorizers(restApiId=api_id)["items"]
            self.assertEqual([(a["type"], a["identitySource"]) for a in authorizers],
                             [("TOKEN", "method.request.header.Authorization")])
            self.assert_invoked_only_by("tollgate-authorizer", api_id, authorizers[0]["id"])
            self.assert_own_logs_only("tollgate-authorizer")
            self.assert_route_table_methods(api_id, authorizers[0]["id"], route_table)
            for table in tables:
                described = dynamodb.describe_table(TableName=table)["Table"]
                self.assertTrue(described["DeletionProtectionEnabled"], table)
            ttl = dynamodb.describe_time_to_live(TableName="tollgate-status")["TimeToLiveDescription"]
            self.assertEqual((ttl["TimeToLiveStatus"], ttl["AttributeName"]), ("ENABLED", "purge_at"))
            alarms = self.moto.client("cloudwatch").describe_alarms(AlarmNamePrefix="tollgate-")["MetricAlarms"]
            self.assertEqual(sorted(a["AlarmName"] for a in alarms), sorted(outputs["alarm_names"]))
            self.assertIn("tollgate-status-lists-unavailable", outputs["alarm_names"])
            self.moto.client("secretsmanager").describe_secret(SecretId=outputs["keyset_secret_arn"])
            self.assert_endpoint(outputs, "REGIONAL")

        def unprotect() -> None:
            # README's teardown: deletion protection off, then destroy.
            for table in tables:
                try:
                    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
                except dynamodb.exceptions.ResourceNotFoundException:
                    pass

        def other_endpoint_types(config: Configuration) -> None:
            api_url = config.outputs()["api_url"]

            def edge(outputs: dict) -> None:
                self.assertEqual(outputs["api_url"], api_url, "an edge-optimized API keeps its invoke URL")
                self.assert_endpoint(outputs, "EDGE")

            self.apply_variant(config, {"endpoint_type": "EDGE"}, edge)
            self.assert_private_api_plan(config)

        self.cycle("", {"lambda_dir": str(self.lambda_dir)}, check, before_destroy=unprotect, then=other_endpoint_types)
        self.assertFalse(set(tables) & set(dynamodb.list_tables()["TableNames"]), "tables left after destroy")

    def assert_route_table_methods(self, api_id: str, authorizer_id: str, table: dict) -> None:
        """Every method of infra/api-routes.json is on its resource path, behind
        the authorizer or open as the table says, integrated with its function,
        each path parameter declared; the backend may be invoked for its own
        paths only (/books... and the shelves)."""
        gateway = self.moto.client("apigateway")
        resources = {r["path"]: r["id"] for r in gateway.get_resources(restApiId=api_id, limit=500)["items"]}
        self.assertIn("/shelves/{owner}/books", resources)
        for key, route in table["methods"].items():
            verb, path = key.split(" ", 1)
            self.assertIn(path, resources, key)
            method = gateway.get_method(restApiId=api_id, resourceId=resources[path], httpMethod=verb)
            authorization = ("CUSTOM", authorizer_id) if route["authorized"] else ("NONE", None)
            self.assertEqual((method["authorizationType"], method.get("authorizerId")), authorization, key)
            params = {f"method.request.path.{p}": True for p in re.findall(r"\{(\w+)\+?\}", path)}
            self.assertEqual(method.get("requestParameters") or {}, params, key)
            integration = gateway.get_integration(restApiId=api_id, resourceId=resources[path], httpMethod=verb)
            self.assertIn(f":function:tollgate-{route['function']}/invocations", integration["uri"], key)
        policy = json.loads(self.moto.client("lambda").get_policy(FunctionName="tollgate-backend")["Policy"])
        arns = sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"])
        prefix = f"arn:aws:execute-api:{REGION}:"
        self.assertEqual([arn.split(f":{api_id}/", 1)[1] for arn in arns if arn.startswith(prefix)],
                         ["prod/*/books*", "prod/GET/shelves/*/books"])
        self.assertEqual(len(arns), 2, arns)

    def assert_endpoint(self, outputs: dict, endpoint_type: str) -> None:
        """The root module's API is of `endpoint_type`, and its outputs say so."""
        api_id = re.fullmatch(rf"https://(\w+)\.execute-api\.{REGION}\.amazonaws\.com/prod", outputs["api_url"]).group(1)
        api = self.moto.client("apigateway").get_rest_api(restApiId=api_id)
        self.assertEqual(api["endpointConfiguration"]["types"], [endpoint_type])
        self.assertTrue(outputs["endpoint_note"].startswith(f"{endpoint_type}: "), outputs["endpoint_note"])
        self.assertEqual(outputs["vpc_endpoint_urls"], {})

    def assert_private_api_plan(self, config: Configuration) -> None:
        """endpoint_type = PRIVATE, planned over the applied state with an
        execute-api VPC endpoint and the authorizer's subnet made in moto:
        the API's type and endpoint, its resource policy, a redeployment,
        the authorizer in the VPC with its network interface permissions,
        and the per-endpoint URL. (Planned, not applied: see the module
        docstring.)"""
        ec2 = self.moto.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tollgate-authorizer", Description="authorizer", VpcId=vpc)["GroupId"]
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.execute-api", VpcEndpointType="Interface",
            SubnetIds=[subnet], SecurityGroupIds=[group], PrivateDnsEnabled=True)["VpcEndpoint"]["VpcEndpointId"]
        print(f"  {config.name}, PRIVATE through {endpoint} (plan only):", flush=True)
        plan = config.planned(
            "private.tfplan", "-var=endpoint_type=PRIVATE", f'-var=vpc_endpoint_ids=["{endpoint}"]',
            f'-var=authorizer_vpc_config={{subnet_ids = ["{subnet}"], security_group_ids = ["{group}"]}}')
        changes = {c["address"]: c["change"] for c in beyond_moto_gaps(plan)}
        api = changes["aws_api_gateway_rest_api.tollgate"]
        self.assertEqual(api["actions"], ["update"])
        self.assertEqual(api["after"]["endpoint_configuration"][0]["types"], ["PRIVATE"])
        self.assertEqual(api["after"]["endpoint_configuration"][0]["vpc_endpoint_ids"], [endpoint])
        policy = changes["aws_api_gateway_rest_api_policy.private_api[0]"]
        self.assertEqual(policy["actions"], ["create"])
        statements = {s["Sid"]: s for s in json.loads(policy["after"]["policy"])["Statement"]}
        self.assertEqual(statements["OnlyThroughTheVpcEndpoints"]["Effect"], "Deny")
        self.assertEqual(statements["OnlyThroughTheVpcEndpoints"]["Condition"],
                         {"StringNotEquals": {"aws:SourceVpce": endpoint}})
        self.assertEqual(changes["aws_api_gateway_deployment.tollgate"]["actions"], ["create", "delete"],
                         "a private API's policy takes effect at a new deployment")
        function = changes["module.authorizer.aws_lambda_function.this"]
        self.assertEqual(function["actions"], ["update"])
        self.assertEqual((function["after"]["vpc_config"][0]["subnet_ids"], function["after"]["vpc_config"][0]["security_group_ids"]),
                         ([subnet], [group]))
        self.assertEqual(changes["module.authorizer.aws_iam_role_policy.network_interfaces[0]"]["actions"], ["create"])
        api_id = api["before"]["id"]
        self.assertEqual(plan["output_changes"]["vpc_endpoint_urls"]["after"],
                         {endpoint: f"https://{api_id}-{endpoint}.execute-api.{REGION}.amazonaws.com/prod"})
        unexpected = set(changes) - {
            "aws_api_gateway_rest_api.tollgate", "aws_api_gateway_rest_api_policy.private_api[0]",
            "aws_api_gateway_deployment.tollgate", "aws_api_gateway_stage.tollgate",
            "module.authorizer.aws_lambda_function.this", "module.authorizer.aws_iam_role_policy.network_interfaces[0]",
        }
        self.assertEqual(unexpected, set(), "PRIVATE changes nothing else")

    def test_the_rest_api_example(self) -> None:
        def check(outputs: dict) -> None:
            api_id = re.fullmatch(rf"https://(\w+)\.execute-api\.{REGION}\.amazonaws\.com/prod", outputs["api_url"]).group(1)
            gateway = self.moto.client("apigateway")
            authorizer = gateway.get_authorizer(restApiId=api_id, authorizerId=outputs["authorizer_id"])
            self.assertEqual((authorizer["type"], authorizer["identitySource"]), ("TOKEN", "method.request.header.Authorization"))
            resource = next(r for r in gateway.get_resources(restApiId=api_id)["items"] if r.get("path") == "/orders")
            for verb in ("GET", "POST"):
                method = gateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=verb)
                self.assertEqual((method["authorizationType"], method["authorizerId"]), ("CUSTOM", outputs["authorizer_id"]))
            env = self.assert_lambda(outputs["function_name"])["Environment"]["Variables"]
            self.assertEqual(json.loads(env["ROUTE_SCOPES"]), {"GET /orders": "orders:read", "POST /orders": "orders:write"})
            self.assert_invoked_only_by(outputs["function_name"], api_id, outputs["authorizer_id"])
            self.assert_own_logs_only(outputs["function_name"])

        self.cycle("examples/rest-api", {"lambda_zip": str(self.lambda_dir / "authorizer" / "bootstrap.zip")}, check)

    def http_api(self, outputs: dict, path_in_cache_key: bool = False) -> tuple[str, dict]:
        api_id = re.fullmatch(rf"https://(\w+)\.execute-api\.{REGION}\.amazonaws\.com/?", outputs["api_url"]).group(1)
        authorizer = self.moto.client("apigatewayv2").get_authorizer(ApiId=api_id, AuthorizerId=outputs["authorizer_id"])
        self.assertEqual((authorizer["AuthorizerType"], authorizer["AuthorizerPayloadFormatVersion"]), ("REQUEST", "2.0"))
        self.assertTrue(authorizer["EnableSimpleResponses"])
        self.assertEqual(set(authorizer["IdentitySource"]),
                         {"$request.header.Authorization", "$context.routeKey"} | ({"$context.path"} if path_in_cache_key else set()),
                         "a simple response is cached per route (and, under route rules, per path)")
        routes = self.moto.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
        for route in routes:
            self.assertEqual((route["AuthorizationType"], route["AuthorizerId"]), ("CUSTOM", outputs["authorizer_id"]), route["RouteKey"])
        return api_id, {r["RouteKey"] for r in routes}

    def test_the_http_api_example(self) -> None:
        def check(outputs: dict) -> None:
            api_id, routes = self.http_api(outputs, path_in_cache_key=True)
            self.assertEqual(routes, {"GET /items", "POST /items", "GET /tenants/{tenant}/items", "ANY /admin/{proxy+}"})
            env = self.assert_lambda(outputs["function_name"])["Environment"]["Variables"]
            self.assertEqual(env["HTTP_API_SIMPLE_RESPONSES"], "true")
            self.assertEqual(json.loads(env["ROUTE_RULES"]), {
                "GET /tenants/{tenant}/items": [{"when": "'items:admin' in scopes"}, {"bind": {"tenant": "claims.tenant_id"}}]})
            self.assert_invoked_only_by(outputs["function_name"], api_id, outputs["authorizer_id"])

        self.cycle("examples/http-api", {"lambda_zip": str(self.lambda_dir / "authorizer" / "bootstrap.zip")}, check)

    def test_the_dpop_example(self) -> None:
        def check(outputs: dict) -> None:
            api_id = re.fullmatch(rf"https://(\w+)\.execute-api\.{REGION}\.amazonaws\.com/prod", outputs["api_url"]).group(1)
            gateway = self.moto.client("apigateway")
            authorizer = gateway.get_authorizer(restApiId=api_id, authorizerId=outputs["authorizer_id"])
            self.assertEqual((authorizer["type"], authorizer["identitySource"], authorizer["authorizerResultTtlInSeconds"]),
                             ("REQUEST", "method.request.header.Authorization,method.request.header.DPoP", 0),
                             "a REQUEST authorizer that sees the proof and never caches an answer")
            resource = next(r for r in gateway.get_resources(restApiId=api_id)["items"] if r.get("path") == "/transfers")
            for verb in ("GET", "POST"):
                method = gateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=verb)
                self.assertEqual((method["authorizationType"], method["authorizerId"]), ("CUSTOM", outputs["authorizer_id"]))
            unauthorized = gateway.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
            self.assertEqual((unauthorized["statusCode"], unauthorized["responseParameters"]),
                             ("401", {"gatewayresponse.header.WWW-Authenticate": "'DPoP algs=\"ES256 EdDSA PS256 RS256\"'"}))
            table = outputs["replay_table_name"]
            self.assertEqual(table, "transfers-authorizer-dpop-replay")
            env = self.assert_lambda(outputs["function_name"])["Environment"]["Variables"]
            self.assertEqual({k: v for k, v in env.items() if k.startswith("DPOP_")},
                             {"DPOP_MODE": "required", "DPOP_ALGORITHMS": "ES256,EdDSA,PS256,RS256", "DPOP_REPLAY_TABLE": table})
            dynamodb = self.moto.client("dynamodb")
            described = dynamodb.describe_table(TableName=table)["Table"]
            self.assertEqual((described["KeySchema"], described["AttributeDefinitions"]),
                             ([{"AttributeName": "pk", "KeyType": "HASH"}], [{"AttributeName": "pk", "AttributeType": "S"}]))
            self.assertEqual(described["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
            self.assertEqual(described["SSEDescription"]["Status"], "ENABLED")
            ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            self.assertEqual((ttl["TimeToLiveStatus"], ttl["AttributeName"]), ("ENABLED", "purge_at"))
            backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
            self.assertEqual(backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED",
                             "a proof record matters for a minute: nothing to restore")
            self.assert_invoked_only_by(outputs["function_name"], api_id, outputs["authorizer_id"])
            self.assert_own_logs_and_replay_table_only(outputs["function_name"], described["TableArn"])

        self.cycle("examples/dpop", {"lambda_zip": str(self.lambda_dir / "authorizer" / "bootstrap.zip")}, check)

    def assert_own_logs_and_replay_table_only(self, function_name: str, table_arn: str) -> None:
        """The DPoP authorizer's role: its own logs, and PutItem on its replay table."""
        iam = self.moto.client("iam")
        role = self.function(function_name)["Role"].rsplit("/", 1)[1]
        self.assertEqual(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [])
        statements = {}
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            for statement in iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]:
                statements[statement["Sid"]] = statement
        self.assertEqual(set(statements), {"OwnLogs", "RecordDpopProofs"})
        replay = statements["RecordDpopProofs"]
        self.assertEqual((replay["Effect"], replay["Action"], replay["Resource"]), ("Allow", "dynamodb:PutItem", table_arn))
        self.assertTrue(statements["OwnLogs"]["Resource"].endswith(f":log-group:/aws/lambda/{function_name}:*"))

    def test_the_cognito_example(self) -> None:
        def check(outputs: dict) -> None:
            _, routes = self.http_api(outputs)
            self.assertEqual(routes, {"GET /notes", "POST /notes"})
            pool = outputs["user_pool_id"]
            self.assertEqual(outputs["issuer"], f"https://cognito-idp.{REGION}.amazonaws.com/{pool}")
            cognito = self.moto.client("cognito-idp")
            cognito.describe_user_pool_client(UserPoolId=pool, ClientId=outputs["client_id"])
            groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool)["Groups"]}
            self.assertEqual(groups, {"readers", "writers"})
            env = self.assert_lambda("notes-authorizer")["Environment"]["Variables"]
            self.assertEqual((env["JWT_ISSUER"], env["JWT_AUDIENCE"], env["SCOPE_CLAIMS"]),
                             (outputs["issuer"], outputs["client_id"], "cognito:groups"))
            self.assertNotIn("JWKS_URI", env, "Cognito's JWKS is found by discovery")

        self.cycle("examples/cognito", {"lambda_zip": str(self.lambda_dir / "authorizer" / "bootstrap.zip")}, check)


if __name__ == "__main__":
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    print(f"terraform apply against moto: {time.monotonic() - started:.0f} s")
    sys.exit(0 if result.wasSuccessful() else 1)
