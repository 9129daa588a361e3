variable "namespace" {
  description = "Namespace Kong runs in (must match the IRSA trust in the bedrock module)."
  type        = string
  default     = "kong"
}

variable "release_name" {
  description = "Helm release name."
  type        = string
  default     = "kong"
}

variable "chart_version" {
  description = "Version of Kong's official Helm chart (charts.konghq.com, chart `kong`)."
  type        = string
  default     = "3.4.1"
}

variable "manage_helm_release" {
  description = "Install the chart from Terraform. Set false when ArgoCD (argocd/kong.yaml) owns the release; Terraform then only creates the namespace and Secrets."
  type        = bool
  default     = true
}

variable "values_file" {
  description = "Path of the chart values (helm/kong-values.yaml)."
  type        = string
}

variable "image_repository" {
  description = "Repository of the gateway image built from Dockerfile.kong (ECR)."
  type        = string
}

variable "image_tag" {
  description = "Tag of the gateway image (an immutable tag, e.g. the git SHA)."
  type        = string
}

variable "irsa_role_arn" {
  description = "IRSA role for Kong's service account (bedrock module output)."
  type        = string
}

variable "service_account_name" {
  description = "Name of Kong's service account (must match the IRSA trust)."
  type        = string
  default     = "kong-gateway"
}

variable "declarative_config" {
  description = "Rendered DB-less config (kong-prod.yaml after `python -m kong_plugins.testing.validate.render`). Stored in a Secret the chart mounts."
  type        = string
  sensitive   = true
}

variable "redis_host" {
  description = "Primary endpoint of the shared Redis (redis module output)."
  type        = string
}

variable "redis_auth_token" {
  description = "Redis AUTH token (redis module output); exposed to Kong as REDIS_AUTH_TOKEN for {vault://env/redis-auth-token}."
  type        = string
  sensitive   = true
}

variable "aws_region" {
  description = "Region of the Bedrock endpoint the plugins sign for."
  type        = string
}
