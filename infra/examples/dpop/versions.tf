terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

# Region and credentials come from the standard AWS environment
# (AWS_REGION, AWS_PROFILE, ...).
provider "aws" {
  default_tags {
    tags = { Example = "tollgate-${basename(abspath(path.module))}" }
  }
}
