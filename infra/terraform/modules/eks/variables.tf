variable "name" {
  description = "Cluster name; also the prefix of the VPC and node group names."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS control plane version."
  type        = string
  default     = "1.31"
}

variable "vpc_cidr" {
  description = "CIDR block of the cluster VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Three availability zones for subnets (Kong pods and Redis replicas spread over them)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "At least two availability zones are needed for a highly available gateway."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group that runs Kong."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum number of nodes (the Kong HPA scales pods within this capacity)."
  type        = number
  default     = 10
}

variable "node_desired_size" {
  description = "Initial number of nodes."
  type        = number
  default     = 3
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public EKS API endpoint (operators, CI). Empty disables public access."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
