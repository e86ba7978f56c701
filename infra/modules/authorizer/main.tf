# Tollgate's authorizer in front of an existing API: the arm64 function with
# its own log group and a role that writes those logs and nothing else (in a
# VPC, also its network interfaces; with DPoP, also its replay table, in
# dpop.tf), the permission for that API alone to invoke it, and the API
# Gateway authorizer itself (REST: TOKEN, or REQUEST with DPoP; HTTP API:
# REQUEST, payload 2.0).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The function's configuration: the variables the binary reads (docs/reference.md),
  # set only when they differ from its defaults.
  environment = merge(
    var.issuer == null ? { TRUSTED_ISSUERS = var.trusted_issuers } : { JWT_ISSUER = var.issuer },
    length(var.audiences) == 0 ? {} : { JWT_AUDIENCE = join(",", var.audiences) },
    var.jwks_uri == null ? {} : { JWKS_URI = var.jwks_uri },
    # The snapshot's JSON, or the name of its file in the zip (the function
    # reads a relative name under LAMBDA_TASK_ROOT).
    var.jwks_snapshot == null ? {} : { JWKS_SNAPSHOT = can(jsondecode(var.jwks_snapshot)) ? jsonencode(jsondecode(var.jwks_snapshot)) : var.jwks_snapshot },
    { ROUTE_SCOPES = jsonencode({ for route, scopes in var.route_scopes : route => trimspace(scopes) }) },
    length(var.route_rules) == 0 ? {} : { ROUTE_RULES = jsonencode(local.route_rules) },
    length(var.scope_claims) == 0 ? {} : { SCOPE_CLAIMS = join(",", var.scope_claims) },
    length(var.context_claims) == 0 ? {} : { CONTEXT_CLAIMS = join(",", var.context_claims) },
    var.principal_claim == null ? {} : { PRINCIPAL_CLAIM = var.principal_claim },
    var.required_typ == null ? {} : { JWT_REQUIRED_TYP = var.required_typ },
    var.allow_id_tokens ? { JWT_ALLOW_ID_TOKENS = "true" } : {},
    var.simple_responses ? { HTTP_API_SIMPLE_RESPONSES = "true" } : {},
    # DPoP: off without `dpop` (a TOKEN authorizer never sees a DPoP header,
    # and the binary refuses TOKEN events unless DPOP_MODE is off); with it,
    # the mode, the algorithms the 401 challenge names (dpop.tf), the URLs
    # clients call and the replay table.
    var.dpop == null ? { DPOP_MODE = "off" } : merge(
      { DPOP_MODE = var.dpop.mode, DPOP_ALGORITHMS = join(",", var.dpop.algorithms) },
      length(var.dpop.public_base_urls) == 0 ? {} : { DPOP_PUBLIC_BASE_URLS = jsonencode(var.dpop.public_base_urls) },
      local.replay_table ? { DPOP_REPLAY_TABLE = aws_dynamodb_table.dpop_replay[0].name } : {},
    ),
    {
      JWKS_MAX_AGE_SECONDS        = tostring(var.jwks_max_age_seconds)
      JWKS_MAX_STALE_SECONDS      = tostring(var.jwks_max_stale_seconds)
      STATUS_LIST_CHECK           = var.status_list_check
      STATUS_LIST_MAX_AGE_SECONDS = tostring(var.status_list_max_age_seconds)
    },
  )

  # ROUTE_RULES as given, members set to null left out (a caller's own
  # object type with optional attributes sets the missing ones to null).
  route_rules = {
    for route, alternatives in var.route_rules : route => [
      for alternative in alternatives : { for member, value in alternative : member => value if value != null }
    ]
  }

  # Lambda refuses an environment over 4 KB, measured as the JSON of all
  # its variables; counted here in bytes of Terraform's JSON (if anything a
  # little over Lambda's count: Terraform writes <, > and & as \u003c,
  # \u003e and \u0026), so that the plan says so, not the apply.
  environment_json_base64 = base64encode(jsonencode(local.environment))
  environment_bytes = (length(local.environment_json_base64) / 4 * 3
  -(endswith(local.environment_json_base64, "==") ? 2 : endswith(local.environment_json_base64, "=") ? 1 : 0))

  api_id = var.api_type == "rest" ? var.rest_api_id : var.http_api_id
  # arn:…:execute-api:region:account:apiId, the prefix of every route of the API.
  execution_arn = "arn:${data.aws_partition.current.partition}:execute-api:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.api_id}"
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own service key; the authorizer never logs tokens or keys (tested in the authorizer crate). A customer-managed key is left to operators who need it.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (default 30 days); set 365 or more where policy requires a year.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# Lambda may assume the role, only for this account (aws:SourceAccount, the
# confused-deputy guard AWS documents for Lambda execution roles).
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Without DPoP the authorizer calls no AWS API (it fetches keys and lists
# over https): its role writes its own log group and nothing else (and, in a
# VPC, lets Lambda manage the function's network interfaces, below; with
# DPoP, records proofs in its replay table, dpop.tf).
data "aws_iam_policy_document" "own_logs" {
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "Execution role of the ${var.name} authorizer: its own logs${local.replay_table ? " and DPoP replay table" : ""} only"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "own_logs" {
  name   = "${var.name}-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.own_logs.json
}

# In a VPC (vpc_config), Lambda attaches the function through network
# interfaces it manages with this role: the EC2 actions AWS documents for
# it (AWSLambdaVPCAccessExecutionRole's, without its logs on every group),
# the changes within this account and region. Describe calls take no
# resource ARN.
data "aws_iam_policy_document" "network_interfaces" {
  count = var.vpc_config == null ? 0 : 1

  statement {
    sid       = "DescribeNetworkInterfaces"
    actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    resources = ["*"]
  }
  statement {
    sid = "ManageNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*/*"]
  }
}

resource "aws_iam_role_policy" "network_interfaces" {
  count = var.vpc_config == null ? 0 : 1

  name   = "${var.name}-network-interfaces"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.network_interfaces[0].json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:Outside a VPC unless vpc_config says otherwise: the authorizer calls only the issuer's https JWKS and status list URLs, and a VPC would add NAT or endpoints for no isolation gain; set vpc_config where the issuer answers only inside one (a private IdP, a PRIVATE API).
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_115:No reserved concurrency by default: capping the authorizer caps the API, and a new account's unreserved minimum makes a reservation fail. API Gateway throttling bounds the load.
  #checkov:skip=CKV_AWS_173:The environment holds issuer URLs, audiences and settings only (no secret); Lambda encrypts it at rest with its service key.
  #checkov:skip=CKV_AWS_272:The artefact is the zip `make lambda` builds, pinned by source_code_hash; code signing needs an AWS Signer profile the operator owns.
  #checkov:skip=CKV_AWS_50:The binary carries no X-Ray SDK; its latency is measured by its EMF metrics (VerificationTime, JwksFetchTime, StatusListFetchTime).
  function_name    = var.name
  description      = "Tollgate JWT authorizer (${local.authorizer_kind} authorizer)"
  role             = aws_iam_role.this.arn
  architectures    = ["arm64"]
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  memory_size      = var.memory_size
  timeout          = var.timeout_seconds
  tags             = var.tags

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  # Its first invocations must be able to write logs (and the EMF metrics in
  # them) and, with DPoP, record proofs; in a VPC, Lambda needs its network
  # interfaces first.
  depends_on = [aws_iam_role_policy.own_logs, aws_iam_role_policy.network_interfaces, aws_iam_role_policy.dpop_replay]

  lifecycle {
    precondition {
      condition     = local.environment_bytes <= 4096
      error_message = "The function's environment is ${local.environment_bytes} bytes as JSON, over Lambda's 4 KB (4096 bytes) for all its variables; ROUTE_SCOPES, ROUTE_RULES and a jwks_snapshot given as JSON are most of it: use shorter routes (a `*` for several), fewer rules or shorter expressions, or package the snapshot in the zip (make lambda JWKS_SNAPSHOT_FROM=..., jwks_snapshot = \"jwks-snapshot.json\")."
    }
  }
}
