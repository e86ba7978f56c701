variable "api_id" {
  description = "REST API id (the issuer URL is built from it, not from the stage resource, to avoid a cycle)."
  type        = string
}

variable "region" {
  description = "AWS region of the API."
  type        = string
}

variable "url_suffix" {
  description = "DNS suffix of the partition (amazonaws.com, amazonaws.com.cn)."
  type        = string
  default     = "amazonaws.com"
}

variable "stage_name" {
  description = "API Gateway stage."
  type        = string
}

variable "endpoint_type" {
  description = "The API's endpoint type: REGIONAL, EDGE or PRIVATE."
  type        = string
  default     = "REGIONAL"
}

variable "vpc_endpoint_ids" {
  description = "PRIVATE: the execute-api VPC endpoints the API answers through."
  type        = list(string)
  default     = []
}

variable "audience" {
  description = "JWT_AUDIENCE, comma-separated."
  type        = string
}

variable "signing_alg" {
  description = "SIGNING_ALG."
  type        = string
}

variable "token_ttl_seconds" {
  description = "TOKEN_TTL_SECONDS."
  type        = number
}

variable "jwks_max_age_seconds" {
  description = "JWKS_MAX_AGE_SECONDS."
  type        = number
}

variable "keyset_secret_arn" {
  description = "KEYSET_SECRET_ID."
  type        = string
}

variable "users_table" {
  description = "USERS_TABLE."
  type        = string
}

variable "status_table" {
  description = "STATUS_TABLE."
  type        = string
}

variable "status_list_max_age_seconds" {
  description = "STATUS_LIST_MAX_AGE_SECONDS, issuer and authorizer."
  type        = number
}

variable "books_table" {
  description = "BOOKS_TABLE."
  type        = string
}
