# EKS cluster for the gateway: a VPC with private subnets, the control plane with IRSA
# (an OIDC provider, so Kong's service account can assume the Bedrock role), and one
# managed node group. The community modules are pinned to exact versions.

locals {
  private_subnets = [for i, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets  = [for i, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, 200 + i)]
}

module "vpc" {
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version; the registry serves immutable versions (docs/decisions/0075).
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.16.0"

  name = "${var.name}-vpc"
  cidr = var.vpc_cidr
  azs  = var.availability_zones

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway     = true
  one_nat_gateway_per_az = true
  enable_dns_hostnames   = true

  enable_flow_log                      = true
  create_flow_log_cloudwatch_log_group = true
  create_flow_log_cloudwatch_iam_role  = true

  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }

  tags = var.tags
}

module "eks" {
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version; the registry serves immutable versions (docs/decisions/0075).
  source  = "terraform-aws-modules/eks/aws"
  version = "20.31.6"

  cluster_name    = var.name
  cluster_version = var.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  cluster_endpoint_private_access      = true
  cluster_endpoint_public_access       = length(var.cluster_endpoint_public_access_cidrs) > 0
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  # IRSA: the OIDC provider that Kong's service account federates with.
  enable_irsa = true

  cluster_enabled_log_types = ["api", "audit", "authenticator"]

  enable_cluster_creator_admin_permissions = true

  eks_managed_node_groups = {
    kong = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_desired_size

      # IMDSv2 only, one hop: pods cannot borrow the node role.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }

  tags = var.tags
}
