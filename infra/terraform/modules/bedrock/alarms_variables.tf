# Variables of alarms.tf (CloudWatch alarms). Every one has a default, so callers of the
# module that do not set them keep working; set alarm_sns_topic_arns to get notified.

variable "alarm_sns_topic_arns" {
  description = "SNS topics notified when an alarm fires or recovers. Empty: the alarms only change state."
  type        = list(string)
  default     = []
}

variable "alarm_model_ids" {
  description = <<-EOT
    ModelId values of AWS/Bedrock to alarm on (one alarm set per ID). Bedrock reports the ID the
    caller used: an inference-profile ID (us.anthropic...) or a foundation-model ID. Empty: the
    IDs at the end of inference_profile_arns and foundation_model_arns.
  EOT
  type        = list(string)
  default     = []
}

variable "alarm_tokens_per_hour" {
  description = "Gateway alarm: input or output tokens of one role in one hour above this (Prometheus/Datadog: input+output above 100k)."
  type        = number
  default     = 100000
}

variable "alarm_error_rate" {
  description = "Share of failed requests (0-1) above which the error-rate alarms fire: the gateway's own Errors/Requests and Bedrock's InvocationServerErrors/Invocations."
  type        = number
  default     = 0.05

  validation {
    condition     = var.alarm_error_rate > 0 && var.alarm_error_rate < 1
    error_message = "alarm_error_rate is a share between 0 and 1."
  }
}

variable "alarm_latency_p99_ms" {
  description = "Bedrock InvocationLatency p99 per model, in milliseconds, above which the latency alarm fires (10 minutes)."
  type        = number
  default     = 30000
}

variable "alarm_throttles_per_5m" {
  description = "InvocationThrottles of one model in 5 minutes above which the throttling alarm fires."
  type        = number
  default     = 10
}

variable "alarm_runbook_url" {
  description = "Base URL of docs/runbooks/incident-response.md (each alarm description links to its section)."
  type        = string
  default     = "docs/runbooks/incident-response.md"
}
