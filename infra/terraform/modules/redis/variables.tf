variable "name" {
  description = "Replication group id and prefix of the related resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the EKS cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cache nodes (one per availability zone)."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS node group); nothing else can reach Redis."
  type        = list(string)
}

variable "node_type" {
  description = "ElastiCache node type. The limiter keeps a few small keys per subject and minute."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Number of cache nodes (primary + replicas); at least 2 for automatic failover."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 2
    error_message = "Use at least 2 nodes so a failover keeps the shared limiter available."
  }
}

variable "engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "snapshot_retention_limit" {
  description = "Days of automatic snapshots (limiter state is short-lived, a day is plenty)."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
