variable "name" {
  description = "Prefix of the IAM role and policy names."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (IRSA)."
  type        = string
}

variable "oidc_issuer_url" {
  description = "Issuer URL of the EKS cluster's OIDC provider, with or without https://."
  type        = string
}

variable "kong_namespace" {
  description = "Namespace of Kong's service account; the role trusts only this namespace/name pair."
  type        = string
  default     = "kong"
}

variable "kong_service_account" {
  description = "Name of Kong's service account (the Helm chart's deployment.serviceAccount.name)."
  type        = string
  default     = "kong-gateway"
}

variable "foundation_model_arns" {
  description = <<-EOT
    Foundation-model ARNs Kong may invoke, e.g.
    arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0.
    A cross-region inference profile routes to the same model in several regions: list the
    model's ARN in every region the profile can route to.
  EOT
  type        = list(string)

  validation {
    condition     = length(var.foundation_model_arns) > 0 && alltrue([for a in var.foundation_model_arns : can(regex("^arn:aws[a-z-]*:bedrock:[a-z0-9-]+::foundation-model/[^*]+$", a))])
    error_message = "Each entry must be a concrete foundation-model ARN (no wildcards)."
  }
}

variable "inference_profile_arns" {
  description = "Inference-profile ARNs Kong may invoke (system-defined us./global. profiles or application profiles)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.inference_profile_arns : can(regex("^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{12}:(application-)?inference-profile/[^*]+$", a))])
    error_message = "Each entry must be a concrete inference-profile ARN (no wildcards)."
  }
}

variable "cloudwatch_namespace" {
  description = "The only CloudWatch namespace token-meter may publish metrics to."
  type        = string
  default     = "KongBedrockGateway"
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
