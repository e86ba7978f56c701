# Books (hash key `id`), accounts (hash key `key`) and token status (hash
# key `pk`, sort key `sk`), the key schemas the backend and issuer stores
# use. On-demand, point-in-time recovery, encrypted at rest, protected from
# deletion.

resource "aws_dynamodb_table" "books" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb); a customer-managed KMS key adds per-request KMS cost and a key policy to run, left to operators who need it.
  name                        = "${var.name}-books"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = true

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "users" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb); the table holds argon2id hashes only, never passwords. A customer-managed key is left to operators who need it.
  name                        = "${var.name}-users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = true

  attribute {
    name = "key"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# Token status: status list entries (claimed blocks), issued tokens by jti
# and by subject (to revoke them), revoked entries per list. Every item
# carries `purge_at`, so DynamoDB deletes what outlived its tokens.
resource "aws_dynamodb_table" "status" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb); the table holds token ids, subjects and list indices, no secret. A customer-managed key is left to operators who need it.
  name                        = "${var.name}-status"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "purge_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}
