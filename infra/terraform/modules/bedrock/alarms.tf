# CloudWatch alarms: Bedrock's own metrics (AWS/Bedrock, dimension ModelId) and the gateway's
# metrics that token-meter publishes (namespace var.cloudwatch_namespace, the one the IAM
# policy lets it write; dimensions Model and Role; kong_plugins/token_meter/cloudwatch.py).
#
# - Bedrock has no per-caller dimension, so throttling, server errors and latency are per
#   model; the gateway's metrics add the role.
# - The gateway's metrics are split over (Model, Role) series; CloudWatch does not add series
#   up, and metric math alarms are limited to 10 metrics, so those alarms are Metrics Insights
#   queries (one query, every series, no model list to keep in sync).
# - Metrics Insights has no percentiles: the p99 latency alarm is Bedrock's InvocationLatency.
# - token-meter publishes no rate-limit metric to CloudWatch (429s count as Errors); the
#   per-consumer rate-limit alert lives in Prometheus and Datadog only.
# Tests: tests/observability/test_cloudwatch_alarms.py (HCL parse, metric names, seeded breakage).

locals {
  alarm_model_ids = length(var.alarm_model_ids) > 0 ? var.alarm_model_ids : distinct([
    for arn in concat(var.inference_profile_arns, var.foundation_model_arns) : element(split("/", arn), length(split("/", arn)) - 1)
  ])
  gateway_schema = "SCHEMA(\"${var.cloudwatch_namespace}\", Model, Role)"
}

resource "aws_cloudwatch_metric_alarm" "bedrock_throttles" {
  for_each = toset(local.alarm_model_ids)

  alarm_name          = "${var.name}-bedrock-throttles-${replace(each.value, ":", "_")}"
  alarm_description   = "Bedrock throttles ${each.value} (quota). Runbook: ${var.alarm_runbook_url}#llmgatewaybedrockerrors"
  namespace           = "AWS/Bedrock"
  metric_name         = "InvocationThrottles"
  dimensions          = { ModelId = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_throttles_per_5m
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arns
  ok_actions          = var.alarm_sns_topic_arns
  tags                = merge(var.tags, { severity = "warning" })
}

resource "aws_cloudwatch_metric_alarm" "bedrock_server_error_rate" {
  for_each = toset(local.alarm_model_ids)

  alarm_name          = "${var.name}-bedrock-server-errors-${replace(each.value, ":", "_")}"
  alarm_description   = "Bedrock server errors above ${var.alarm_error_rate * 100}% of invocations of ${each.value}. Runbook: ${var.alarm_runbook_url}#llmgatewaybedrockerrors"
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_error_rate
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arns
  ok_actions          = var.alarm_sns_topic_arns
  tags                = merge(var.tags, { severity = "critical" })

  metric_query {
    id          = "rate"
    expression  = "IF(invocations > 0, errors / invocations, 0)"
    label       = "Server error rate"
    return_data = true
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = "AWS/Bedrock"
      metric_name = "InvocationServerErrors"
      dimensions  = { ModelId = each.value }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "invocations"

    metric {
      namespace   = "AWS/Bedrock"
      metric_name = "Invocations"
      dimensions  = { ModelId = each.value }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "bedrock_latency_p99" {
  for_each = toset(local.alarm_model_ids)

  alarm_name          = "${var.name}-bedrock-latency-p99-${replace(each.value, ":", "_")}"
  alarm_description   = "Bedrock InvocationLatency p99 of ${each.value} above ${var.alarm_latency_p99_ms} ms for 10 minutes. Runbook: ${var.alarm_runbook_url}#llmgatewayhighlatencyp99"
  namespace           = "AWS/Bedrock"
  metric_name         = "InvocationLatency"
  dimensions          = { ModelId = each.value }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arns
  ok_actions          = var.alarm_sns_topic_arns
  tags                = merge(var.tags, { severity = "warning" })
}

# Errors is 1 or 0 per request, so its average over every (Model, Role) series is the
# gateway's error rate (throttling, guardrail blocks and rate limits included).
resource "aws_cloudwatch_metric_alarm" "gateway_error_rate" {
  alarm_name          = "${var.name}-gateway-error-rate"
  alarm_description   = "More than ${var.alarm_error_rate * 100}% of gateway requests failed over 5 minutes. Runbook: ${var.alarm_runbook_url}#llmgatewaybedrockerrors"
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_error_rate
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arns
  ok_actions          = var.alarm_sns_topic_arns
  tags                = merge(var.tags, { severity = "critical" })

  metric_query {
    id          = "errors"
    expression  = "SELECT AVG(Errors) FROM ${local.gateway_schema}"
    period      = 300
    label       = "Gateway error rate"
    return_data = true
  }
}

# One query per direction, grouped by role (a multi-time-series alarm: one contributor per
# role). Metrics Insights selects one metric per query, so input+output cannot be summed
# here; either side alone above the threshold fires.
resource "aws_cloudwatch_metric_alarm" "gateway_tokens_per_role" {
  for_each = toset(["InputTokens", "OutputTokens"])

  alarm_name          = "${var.name}-gateway-${lower(each.value)}-per-role"
  alarm_description   = "${each.value} of one role above ${var.alarm_tokens_per_hour} in one hour. Runbook: ${var.alarm_runbook_url}#llmgatewayhightokenusage"
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_tokens_per_hour
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arns
  ok_actions          = var.alarm_sns_topic_arns
  tags                = merge(var.tags, { severity = "warning" })

  metric_query {
    id          = "tokens"
    expression  = "SELECT SUM(${each.value}) FROM ${local.gateway_schema} GROUP BY Role ORDER BY SUM() DESC"
    period      = 3600
    label       = "${each.value} per role per hour"
    return_data = true
  }
}
