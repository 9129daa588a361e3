# Kong on EKS through Kong's official chart. Terraform owns the namespace and the two
# Secrets (the DB-less config and the Redis AUTH token); the chart release itself is owned
# either by this module (helm_release) or by ArgoCD (argocd/kong.yaml), never both.

resource "kubernetes_namespace_v1" "kong" {
  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "llm-gateway"
    }
  }
}

locals {
  # The rendered kong-prod.yaml keeps one placeholder, the ElastiCache endpoint, which exists
  # only once the redis module has been applied (docs/decisions/0072).
  declarative_config = replace(var.declarative_config, "$${{ env \"DECK_REDIS_HOST\" }}", var.redis_host)
}

# Chart value dblessConfig.secret = kong-dbless-config (key kong.yml).
resource "kubernetes_secret_v1" "dbless_config" {
  metadata {
    name      = "kong-dbless-config"
    namespace = kubernetes_namespace_v1.kong.metadata[0].name
  }
  data = {
    "kong.yml" = local.declarative_config
  }
}

# Read by helm/kong-values.yaml (customEnv REDIS_AUTH_TOKEN -> {vault://env/redis-auth-token}).
resource "kubernetes_secret_v1" "redis_auth" {
  metadata {
    name      = "kong-redis-auth"
    namespace = kubernetes_namespace_v1.kong.metadata[0].name
  }
  data = {
    "host"       = var.redis_host
    "auth-token" = var.redis_auth_token
  }
}

resource "helm_release" "kong" {
  count = var.manage_helm_release ? 1 : 0

  name       = var.release_name
  namespace  = kubernetes_namespace_v1.kong.metadata[0].name
  repository = "https://charts.konghq.com"
  chart      = "kong"
  version    = var.chart_version

  values = [file(var.values_file)]

  set {
    name  = "image.repository"
    value = var.image_repository
  }

  set {
    name  = "image.tag"
    value = var.image_tag
  }

  set {
    name  = "deployment.serviceAccount.name"
    value = var.service_account_name
  }

  set {
    name  = "deployment.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.irsa_role_arn
  }

  set {
    name  = "customEnv.aws_region"
    value = var.aws_region
  }

  # botocore reads AWS_DEFAULT_REGION (the IRSA webhook sets both; be explicit).
  set {
    name  = "customEnv.aws_default_region"
    value = var.aws_region
  }

  # Rolling updates wait for every new pod to be ready (maxUnavailable 0 in the values).
  atomic          = true
  wait            = true
  timeout         = 900
  cleanup_on_fail = true
  max_history     = 10

  depends_on = [
    kubernetes_secret_v1.dbless_config,
    kubernetes_secret_v1.redis_auth,
  ]
}
