output "namespace" {
  description = "Namespace Kong runs in."
  value       = kubernetes_namespace_v1.kong.metadata[0].name
}

output "release_name" {
  description = "Helm release name (null when ArgoCD owns the release)."
  value       = var.manage_helm_release ? helm_release.kong[0].name : null
}

output "dbless_config_secret" {
  description = "Name of the Secret holding the DB-less config."
  value       = kubernetes_secret_v1.dbless_config.metadata[0].name
}
