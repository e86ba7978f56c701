provider "aws" {
  default_tags {
    tags = merge({ Project = "tollgate", Name = var.name }, var.tags)
  }
}
