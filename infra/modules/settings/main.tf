# Settings derived from the validated inputs, with no provider: what the
# root module builds its resources from, tested offline by `terraform test`.

locals {
  rate = try(regex("^rate\\(([0-9]+) (hour|hours|day|days)\\)$", var.rotation_schedule), null)

  lambda_dir = startswith(var.lambda_dir, "/") ? var.lambda_dir : "${path.root}/${var.lambda_dir}"

  # Memory and timeout fitted to each function. The issuer hashes passwords
  # with argon2id (19 MiB per hash, CPU-bound: more memory is more CPU on
  # Lambda); the authorizer's work is one signature check and at most one
  # JWKS fetch (JWKS_FETCH_TIMEOUT_MS, 1.5 s); the rotation makes a few
  # Secrets Manager calls and one key generation (RSA is the slow one).
  functions = {
    authorizer      = { memory_mb = 256, timeout_s = 6, description = "Tollgate JWT authorizer (API Gateway TOKEN authorizer)" }
    issuer          = { memory_mb = 1024, timeout_s = 10, description = "Tollgate issuer: login, token endpoint, JWKS, key administration" }
    issuer-rotation = { memory_mb = 512, timeout_s = 30, description = "Tollgate keyset rotation (Secrets Manager rotation function)" }
    backend         = { memory_mb = 256, timeout_s = 10, description = "Tollgate books API (DynamoDB)" }
  }
}

output "functions" {
  description = "Per function: memory, timeout, description and the zip `make lambda` builds."
  value = {
    for fn, s in local.functions : fn => merge(s, {
      function_name = "${var.name}-${fn}"
      zip           = "${local.lambda_dir}/${fn}/bootstrap.zip"
    })
  }
}

output "rotation_period_seconds" {
  description = "Seconds between scheduled rotations for a rate() schedule; null for cron()."
  value       = local.rate == null ? null : tonumber(local.rate[0]) * (startswith(local.rate[1], "day") ? 86400 : 3600)
}

output "previous_key_grace_seconds" {
  description = "How long a retired key stays published: its last token's lifetime plus the longest JWKS cache."
  value       = var.token_ttl_seconds + var.jwks_max_age_seconds
}

output "audience" {
  description = "JWT_AUDIENCE (comma-separated)."
  value       = join(",", var.audiences)
}
