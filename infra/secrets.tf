# The keyset secret. Its private keys never pass through Terraform: the
# first version is a placeholder (the issuer reads a one-member
# {"placeholder": …} object as "no keyset yet"), and an immediate rotation by
# `issuer-rotation` writes the first real keyset. Terraform keeps only the
# placeholder's version in state and ignores every later version.

resource "aws_secretsmanager_secret" "keyset" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS managed key (aws/secretsmanager); access is limited by the two function roles' exact-ARN policies. A customer-managed key is left to operators who need it.
  name                    = "${var.name}/keyset"
  description             = "Tollgate signing keyset (private keys): written only by the issuer and its rotation function."
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "placeholder" {
  secret_id     = aws_secretsmanager_secret.keyset.id
  secret_string = jsonencode({ placeholder = "Tollgate keyset: written by the first rotation (issuer-rotation)" })

  lifecycle {
    # Rotations move AWSCURRENT to versions Terraform never sees; neither
    # their values nor the labels may be pulled back. If this version is ever
    # re-created, the issuer reads through the placeholder to the keyset it
    # displaced (AWSPREVIOUS): no key is lost.
    ignore_changes = [secret_string, version_stages]
  }
}

resource "aws_secretsmanager_secret_rotation" "keyset" {
  secret_id           = aws_secretsmanager_secret.keyset.id
  rotation_lambda_arn = aws_lambda_function.fn["issuer-rotation"].arn
  rotate_immediately  = true

  rotation_rules {
    schedule_expression = var.rotation_schedule
  }

  depends_on = [
    aws_secretsmanager_secret_version.placeholder,
    aws_lambda_permission.rotation,
    aws_iam_role_policy.fn["issuer_rotation"],
  ]
}
