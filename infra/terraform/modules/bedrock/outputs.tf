output "role_arn" {
  description = "IRSA role ARN; annotate Kong's service account with it (eks.amazonaws.com/role-arn)."
  value       = aws_iam_role.kong.arn
}

output "policy_arn" {
  description = "ARN of the least-privilege gateway policy."
  value       = aws_iam_policy.gateway.arn
}

output "policy_json" {
  description = "The gateway policy document (for review)."
  value       = data.aws_iam_policy_document.gateway.json
}
