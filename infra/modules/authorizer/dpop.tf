# DPoP (RFC 9449), with `dpop` set: the table of used proofs, the one call
# the function makes on it, and the 401 challenge that names the proof
# algorithms. The REQUEST authorizers and their identity sources are in
# api.tf, the function's DPOP_* variables in main.tf.

locals {
  replay_table = var.dpop == null ? false : var.dpop.replay_table
  # RFC 9449 §7.1: a 401 names the DPoP scheme and the algorithms a proof
  # may use; with if_bound, bearer tokens are accepted too, so the Bearer
  # scheme is offered first (§7.2).
  dpop_challenge = var.dpop == null ? null : format(
    "%sDPoP algs=\"%s\"", var.dpop.mode == "if_bound" ? "Bearer, " : "", join(" ", var.dpop.algorithms)
  )
}

# Used proofs, across the function's instances: one conditional PutItem
# per proof (item `pk`, attribute_not_exists(pk)), the item deleted by TTL on
# `purge_at` once the proof is too old to be accepted anyway. An
# unreachable or missing table makes the authorizer fail closed.
resource "aws_dynamodb_table" "dpop_replay" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery off: an item matters for about a minute (until its proof is older than DPOP_MAX_AGE_SECONDS plus skew), so a restored table would only hold proofs too old to be accepted anyway.
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb); items are hashes of a key thumbprint and a proof's jti, and expiry times: no secret. A customer-managed key is left to operators who need it.
  count = local.replay_table ? 1 : 0

  name         = "${var.name}-dpop-replay"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  tags         = var.tags

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "purge_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = false
  }

  server_side_encryption {
    enabled = true
  }
}

# The function's one DynamoDB call: PutItem on its own replay table.
data "aws_iam_policy_document" "dpop_replay" {
  count = local.replay_table ? 1 : 0

  statement {
    sid       = "RecordDpopProofs"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.dpop_replay[0].arn]
  }
}

resource "aws_iam_role_policy" "dpop_replay" {
  count = local.replay_table ? 1 : 0

  name   = "${var.name}-dpop-replay"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.dpop_replay[0].json
}

# REST: every 401 of the API (a missing identity source, the authorizer's
# Unauthorized) carries the challenge. A gateway response belongs to the
# whole API and takes effect at its next deployment.
resource "aws_api_gateway_gateway_response" "dpop_unauthorized" {
  count = var.api_type == "rest" && var.dpop != null ? 1 : 0

  rest_api_id   = var.rest_api_id
  response_type = "UNAUTHORIZED"
  status_code   = "401"

  response_parameters = {
    "gatewayresponse.header.WWW-Authenticate" = "'${local.dpop_challenge}'"
  }
  # API Gateway's own body for this response.
  response_templates = {
    "application/json" = "{\"message\":$context.error.messageString}"
  }
}
