"""Offline validators for the deployment files (`make validate`).

Nothing here can run Kong, Docker, Kubernetes or AWS, so each file is checked by the
strongest offline check available: the harness's Kong-faithful declarative loader with the
plugins' dumped schemas, the Compose specification's JSON schema, Kubernetes OpenAPI
schemas (kubernetes-validate) and the ArgoCD CRD schemas, the Kong chart's own values,
HCL parsing, a terraform-fmt style check and checkov, promtool, yamllint, shellcheck and
hadolint. Every check returns a list of problems; an empty list means it passed.
"""
