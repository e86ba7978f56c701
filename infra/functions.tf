# The issuer, rotation and books functions: arm64, provided.al2023, handler
# `bootstrap`, from the zips `make lambda` builds
# (target/lambda/<name>/bootstrap.zip). The authorizer is modules/authorizer's.

resource "aws_cloudwatch_log_group" "fn" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own service key; the functions never log tokens, keys or passwords (tested in the issuer and authorizer crates). A customer-managed key is left to operators who need it.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (default 30 days); set 365 or more where policy requires a year.
  for_each = local.functions

  name              = "/aws/lambda/${each.value.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "fn" {
  #checkov:skip=CKV_AWS_117:The functions call only public AWS endpoints and the issuer's https JWKS URL; a VPC would add NAT or endpoints and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_116:Every invocation is synchronous (API Gateway, Secrets Manager rotation steps); a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_115:No reserved concurrency by default: a new account's unreserved minimum makes it fail, and capping a function caps the API. API Gateway throttling bounds the load instead.
  #checkov:skip=CKV_AWS_173:The environment holds names and URLs only (no secrets); Lambda encrypts it at rest with its service key.
  #checkov:skip=CKV_AWS_272:Artifacts come from `make lambda` with source_code_hash pinning each zip; code signing needs an AWS Signer profile the operator owns.
  #checkov:skip=CKV_AWS_50:The binaries carry no X-Ray SDK; latency is measured by EMF metrics (VerificationTime, JwksFetchTime) and API Gateway's X-Ray tracing of the stage.
  for_each = local.functions

  function_name    = each.value.function_name
  description      = each.value.description
  role             = aws_iam_role.fn[each.key].arn
  architectures    = ["arm64"]
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = each.value.zip
  source_code_hash = filebase64sha256(each.value.zip)
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout_s

  environment {
    variables = module.environment.variables[each.key]
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  # Its first invocations must be able to write logs (and the EMF metrics in them).
  depends_on = [aws_iam_role_policy.fn, aws_iam_role_policy.own_logs]
}

# API Gateway may invoke the issuer and backend only from this API's stages
# (the authorizer module grants its own function to this API's authorizer),
# the backend only for its own paths: /books, /books/... and the one
# method on a shelf (a source ARN is stage/METHOD/path). The principal
# stays a literal in each resource so checkov can check the source ARN.
locals {
  api_gateway_permissions = {
    issuer          = { function = "issuer", statement_id = "AllowApiGatewayIssuer", source_arn = "${local.execute_api_arn}/${var.stage_name}/*" }
    backend         = { function = "backend", statement_id = "AllowApiGatewayBackend", source_arn = "${local.execute_api_arn}/${var.stage_name}/*/books*" }
    backend_shelves = { function = "backend", statement_id = "AllowApiGatewayBackendShelves", source_arn = "${local.execute_api_arn}/${var.stage_name}/GET/shelves/*/books" }
  }
}

resource "aws_lambda_permission" "api_gateway" {
  for_each = local.api_gateway_permissions

  statement_id  = each.value.statement_id
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn[each.value.function].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = each.value.source_arn
}

# Secrets Manager may invoke the rotation only for the keyset.
resource "aws_lambda_permission" "rotation" {
  statement_id  = "AllowSecretsManagerRotation"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["issuer-rotation"].function_name
  principal     = "secretsmanager.amazonaws.com"
  source_arn    = aws_secretsmanager_secret.keyset.arn
}
