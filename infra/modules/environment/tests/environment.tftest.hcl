# Offline: no provider. `terraform test` in infra/modules/environment.

variables {
  api_id               = "a1b2c3d4e5"
  region               = "eu-west-1"
  stage_name           = "prod"
  audience             = "books-api"
  signing_alg          = "ES256"
  token_ttl_seconds    = 900
  jwks_max_age_seconds = 300
  keyset_secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tollgate/keyset-AbCdEf"
  users_table          = "tollgate-users"
  books_table          = "tollgate-books"
  status_table         = "tollgate-status"

  status_list_max_age_seconds = 60
}

run "issuer_url_is_the_stage_url" {
  command = plan

  assert {
    condition     = output.issuer_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "iss is https://{api}.execute-api.{region}.amazonaws.com/{stage}"
  }
  assert {
    condition     = output.jwks_url == "${output.issuer_url}/.well-known/jwks.json"
    error_message = "the issuer's JWKS route"
  }
}

run "issuer_signs_for_the_same_issuer_and_audience" {
  command = plan

  assert {
    condition     = output.variables["issuer"]["JWT_ISSUER"] == output.issuer_url
    error_message = "the issuer signs as the URL the authorizer module trusts"
  }
  assert {
    condition = output.variables["issuer"] == {
      JWT_ISSUER           = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
      JWT_AUDIENCE         = "books-api"
      TOKEN_TTL_SECONDS    = "900"
      JWKS_MAX_AGE_SECONDS = "300"
      SIGNING_ALG          = "ES256"
      KEYSET_SECRET_ID     = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tollgate/keyset-AbCdEf"
      USERS_TABLE          = "tollgate-users"
      STATUS_TABLE         = "tollgate-status"

      STATUS_LIST_MAX_AGE_SECONDS = "60"
    }
    error_message = "issuer environment"
  }
}

run "rotation_gets_only_what_shapes_a_rotation" {
  command = plan

  assert {
    condition = output.variables["issuer-rotation"] == {
      SIGNING_ALG          = "ES256"
      TOKEN_TTL_SECONDS    = "900"
      JWKS_MAX_AGE_SECONDS = "300"
    }
    error_message = "rotation environment: the same algorithm and grace as the issuer"
  }
  assert {
    condition     = output.variables["backend"] == { BOOKS_TABLE = "tollgate-books" }
    error_message = "backend environment"
  }
}

run "other_partitions_keep_their_dns_suffix" {
  command = plan
  variables {
    region     = "cn-north-1"
    url_suffix = "amazonaws.com.cn"
  }
  assert {
    condition     = output.issuer_url == "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod"
    error_message = "China partition URL"
  }
}

run "a_regional_api_has_no_vpc_endpoint_urls" {
  command = plan

  assert {
    condition     = output.vpc_endpoint_urls == {} && startswith(output.endpoint_note, "REGIONAL: ")
    error_message = "REGIONAL is the default: no VPC endpoint URL"
  }
}

run "an_edge_api_keeps_its_stage_url_and_its_region" {
  command = plan
  variables {
    endpoint_type = "EDGE"
  }
  assert {
    condition     = output.issuer_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod" && output.vpc_endpoint_urls == {}
    error_message = "an edge-optimized API answers at the same invoke URL"
  }
  assert {
    condition     = startswith(output.endpoint_note, "EDGE: ") && strcontains(output.endpoint_note, "stay in eu-west-1")
    error_message = "the note says the authorizer cache stays in the API's region"
  }
}

run "a_private_api_is_reachable_through_each_vpc_endpoint" {
  command = plan
  variables {
    endpoint_type    = "PRIVATE"
    vpc_endpoint_ids = ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"]
  }
  assert {
    condition = output.vpc_endpoint_urls == {
      "vpce-0123456789abcdef0" = "https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com/prod"
      "vpce-0fedcba9876543210" = "https://a1b2c3d4e5-vpce-0fedcba9876543210.execute-api.eu-west-1.amazonaws.com/prod"
    }
    error_message = "https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/{stage} per endpoint"
  }
  assert {
    condition     = output.issuer_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "iss stays the API's own hostname (private DNS resolves it inside the VPC)"
  }
  assert {
    condition     = startswith(output.endpoint_note, "PRIVATE: ") && strcontains(output.endpoint_note, "vpce-0123456789abcdef0, vpce-0fedcba9876543210")
    error_message = "the note names the endpoints"
  }
}
