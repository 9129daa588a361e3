# Production: EKS + the shared Redis + Bedrock IAM (IRSA) + Kong.

locals {
  tags = {
    Project     = "llm-gateway"
    Environment = "prod"
    ManagedBy   = "terraform"
  }
  kong_namespace       = "kong"
  kong_service_account = "kong-gateway"
}

# The gateway image (Dockerfile.kong): immutable tags, scanned on push, KMS-encrypted.
resource "aws_ecr_repository" "gateway" {
  name                 = "${var.name}/kong-bedrock-gateway"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "gateway" {
  repository = aws_ecr_repository.gateway.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 50 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 }
      action       = { type = "expire" }
    }]
  })
}

module "eks" {
  source = "../../modules/eks"

  name                                 = var.name
  availability_zones                   = var.availability_zones
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  tags                                 = local.tags
}

module "bedrock" {
  source = "../../modules/bedrock"

  name                   = var.name
  oidc_provider_arn      = module.eks.oidc_provider_arn
  oidc_issuer_url        = module.eks.oidc_issuer_url
  kong_namespace         = local.kong_namespace
  kong_service_account   = local.kong_service_account
  foundation_model_arns  = var.foundation_model_arns
  inference_profile_arns = var.inference_profile_arns
  cloudwatch_namespace   = var.cloudwatch_namespace
  tags                   = local.tags
}

module "redis" {
  source = "../../modules/redis"

  name                      = "${var.name}-limiter"
  vpc_id                    = module.eks.vpc_id
  subnet_ids                = module.eks.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  tags                      = local.tags
}

module "kong" {
  source = "../../modules/kong"

  namespace            = local.kong_namespace
  service_account_name = local.kong_service_account
  manage_helm_release  = var.manage_helm_release
  values_file          = "${path.module}/../../../../helm/kong-values.yaml"
  image_repository     = aws_ecr_repository.gateway.repository_url
  image_tag            = var.image_tag
  irsa_role_arn        = module.bedrock.role_arn
  declarative_config   = file(var.declarative_config_path)
  redis_host           = module.redis.primary_endpoint
  redis_auth_token     = module.redis.auth_token
  aws_region           = var.region
}
