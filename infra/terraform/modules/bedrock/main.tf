# IAM for the gateway, at least privilege:
# - bedrock:InvokeModel / InvokeModelWithResponseStream (Converse and ConverseStream use the
#   same actions) on the configured model and inference-profile ARNs only;
# - cloudwatch:PutMetricData, which has no resource-level permissions, limited by the
#   cloudwatch:namespace condition key to our namespace;
# - an IRSA role that only Kong's service account (namespace + name) can assume.

locals {
  oidc_issuer = replace(var.oidc_issuer_url, "https://", "")
}

data "aws_iam_policy_document" "assume_from_kong_service_account" {
  statement {
    sid     = "KongServiceAccountOnly"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.kong_namespace}:${var.kong_service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "gateway" {
  statement {
    sid    = "InvokeConfiguredModelsOnly"
    effect = "Allow"
    actions = [
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithResponseStream",
    ]
    resources = concat(var.foundation_model_arns, var.inference_profile_arns)
  }

  statement {
    sid       = "PutMetricsInOurNamespaceOnly"
    effect    = "Allow"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.cloudwatch_namespace]
    }
  }
}

resource "aws_iam_role" "kong" {
  name                 = "${var.name}-kong-bedrock"
  description          = "Assumed by Kong's service account through IRSA to call Bedrock and publish metrics."
  assume_role_policy   = data.aws_iam_policy_document.assume_from_kong_service_account.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_policy" "gateway" {
  name        = "${var.name}-kong-bedrock"
  description = "Invoke the configured Bedrock models; put metrics in ${var.cloudwatch_namespace} only."
  policy      = data.aws_iam_policy_document.gateway.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "gateway" {
  role       = aws_iam_role.kong.name
  policy_arn = aws_iam_policy.gateway.arn
}
