output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "kong_irsa_role_arn" {
  description = "IRSA role of Kong's service account."
  value       = module.bedrock.role_arn
}

output "redis_primary_endpoint" {
  description = "Shared limiter Redis endpoint (TLS)."
  value       = module.redis.primary_endpoint
}

output "kong_namespace" {
  description = "Namespace Kong runs in."
  value       = module.kong.namespace
}

output "ecr_repository_url" {
  description = "Push the image built from Dockerfile.kong here (tag = git SHA)."
  value       = aws_ecr_repository.gateway.repository_url
}
