variable "region" {
  description = "AWS region of the cluster and of the Bedrock endpoint."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "llm-gateway-prod"
}

variable "availability_zones" {
  description = "Availability zones for the cluster and Redis."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS API (operators, CI). Empty means private access only."
  type        = list(string)
  default     = []
}

variable "foundation_model_arns" {
  description = "Foundation-model ARNs the gateway may invoke (every region its inference profiles route to)."
  type        = list(string)
}

variable "inference_profile_arns" {
  description = "Inference-profile ARNs the gateway may invoke."
  type        = list(string)
  default     = []
}

variable "cloudwatch_namespace" {
  description = "CloudWatch namespace of token-meter's metrics."
  type        = string
  default     = "KongBedrockGateway"
}

variable "image_tag" {
  description = "Immutable image tag to deploy (git SHA)."
  type        = string
}

variable "declarative_config_path" {
  description = "Path of the rendered kong-prod.yaml (make eks/plan renders it into build/kong-prod.rendered.yaml)."
  type        = string
  default     = "../../../../build/kong-prod.rendered.yaml"
}

variable "manage_helm_release" {
  description = "Terraform installs the Kong chart (true) or ArgoCD does (false, argocd/kong.yaml)."
  type        = bool
  default     = true
}
