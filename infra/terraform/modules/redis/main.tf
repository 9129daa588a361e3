# ElastiCache for Redis (OSS engine) shared by every Kong pod's token-meter, so token limits
# hold across the cluster: TLS in transit, an AUTH token, encryption at rest with a
# customer-managed KMS key, Multi-AZ with automatic failover, reachable only from the nodes.

resource "random_password" "auth_token" {
  length  = 64
  special = false
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "redis" {
  description             = "${var.name} ElastiCache encryption at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # The account's default key policy, written out: IAM policies in this account decide who
  # may use the key (ElastiCache uses it through grants on the caller's behalf).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "${var.name}-redis"
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis for the Kong token limiter: TLS port from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "from_nodes" {
  for_each = toset(var.client_security_group_ids)

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis TLS from the EKS node group"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = each.value
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Shared token-limiter state for Kong (token-meter redis policy)"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.replicas
  port                 = 6379
  parameter_group_name = "default.redis7"

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.redis.id]

  automatic_failover_enabled = true
  multi_az_enabled           = true

  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth_token.result
  auth_token_update_strategy = "ROTATE"

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.redis.arn

  snapshot_retention_limit   = var.snapshot_retention_limit
  auto_minor_version_upgrade = true
  apply_immediately          = false

  tags = var.tags
}
