# One role per function, each with exact actions on exact ARNs. The actions
# are the AWS SDK operations each binary calls (checked against the code by
# infra/tests/test_contract.py), plus writing its own log group.

# Who may assume the roles. The functions' roles: Lambda, only for this
# account (aws:SourceAccount, the confused-deputy guard AWS documents as
# supported for Lambda execution roles).
data "aws_iam_policy_document" "assume_lambda" {
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

# API Gateway's account role for logs (api.tf): the trust policy AWS
# documents for it has no condition, and API Gateway need not send
# aws:SourceAccount when it assumes that role, so one here could keep it from
# writing logs at all.
data "aws_iam_policy_document" "assume_apigateway" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

# What the issuer and the rotation Lambda both do on the keyset secret: read
# it and its labels, stage a version, move a label (the compare-and-swap).
locals {
  keyset_actions = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
  ]
}

resource "aws_iam_role" "fn" {
  for_each = local.functions

  name               = each.value.function_name
  description        = "Execution role of ${each.value.function_name}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

# Every function writes its own log group, and no other.
data "aws_iam_policy_document" "own_logs" {
  for_each = local.functions

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "own_logs" {
  for_each = local.functions

  name   = "tollgate-${each.key}-logs"
  role   = aws_iam_role.fn[each.key].id
  policy = data.aws_iam_policy_document.own_logs[each.key].json
}

# The AWS calls of each function. (The authorizer, modules/authorizer's,
# calls no AWS API: it fetches the JWKS and status lists over https.)

# The issuer reads accounts, reads the keyset, writes the first keyset over
# the placeholder, and rotates or revokes keys from the admin endpoint
# (PutSecretValue as AWSPENDING, then UpdateSecretVersionStage as a
# compare-and-swap, DescribeSecret to find the labels). On the status
# table it claims blocks and records tokens (conditional PutItem), opens
# lists and revokes entries (UpdateItem), reads lists and records (GetItem,
# Query).
data "aws_iam_policy_document" "issuer" {
  statement {
    sid       = "ReadAccounts"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.users.arn]
  }
  statement {
    sid       = "TokenStatus"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.status.arn]
  }
  statement {
    sid       = "Keyset"
    actions   = local.keyset_actions
    resources = [aws_secretsmanager_secret.keyset.arn]
  }
}

# Secrets Manager's rotation steps on the keyset secret only.
data "aws_iam_policy_document" "issuer_rotation" {
  statement {
    sid       = "RotateKeyset"
    actions   = local.keyset_actions
    resources = [aws_secretsmanager_secret.keyset.arn]
  }
}

# The books API: create (conditional put), read, update (conditional put on
# the version), delete (conditional), list (paginated scan).
data "aws_iam_policy_document" "backend" {
  statement {
    sid       = "Books"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"]
    resources = [aws_dynamodb_table.books.arn]
  }
}

# Each policy of AWS calls, keyed by its policy document above.
locals {
  role_policies = {
    issuer          = { function = "issuer", json = data.aws_iam_policy_document.issuer.json }
    issuer_rotation = { function = "issuer-rotation", json = data.aws_iam_policy_document.issuer_rotation.json }
    backend         = { function = "backend", json = data.aws_iam_policy_document.backend.json }
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.role_policies

  name   = "tollgate-${each.value.function}"
  role   = aws_iam_role.fn[each.value.function].id
  policy = each.value.json
}
