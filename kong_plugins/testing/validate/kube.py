"""Kubernetes manifests and the Helm values, without a cluster or helm.

- Plain manifests (argocd/): built-in kinds through kubernetes-validate (strict OpenAPI
  schemas of the target Kubernetes version); ArgoCD kinds through the CRDs' openAPIV3Schema
  (vendored from argoproj/argo-cd), closed the way the API server prunes unknown fields.
- helm/kong-values.yaml: every key must exist in Kong's chart (its values.yaml, including
  keys the chart documents in comments, or under a free-form map), and the objects the chart
  renders from the parts we rely on (Deployment strategy/probes/env/resources, ServiceAccount,
  HPA, PDB) are built here the way the chart's templates build them and validated strictly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

from kong_plugins.testing.validate.result import Problems

KUBERNETES_VERSION = "1.31"
SCHEMAS = Path(__file__).resolve().parents[3] / "deploy" / "schemas"
CRD_SCHEMAS = {
    ("argoproj.io/v1alpha1", "Application"): "argocd-application.json",
    ("argoproj.io/v1alpha1", "AppProject"): "argocd-appproject.json",
}
CHART_VALUES = SCHEMAS / "kong-chart-3.4.1-values.yaml"
# Chart values that are free-form maps (anything below them goes into a Kubernetes object or
# an env block verbatim).
FREE_FORM = {
    "env",
    "customEnv",
    "podAnnotations",
    "podLabels",
    "deploymentAnnotations",
    "resources",
    "affinity",
    "nodeSelector",
    "updateStrategy",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "lifecycle",
    "securityContext",
    "containerSecurityContext",
    "autoscaling.metrics",
    "autoscaling.behavior",
    "deployment.serviceAccount.annotations",
    "proxy.annotations",
    "topologySpreadConstraints",
}


def closed(schema: Any) -> Any:
    """A CRD schema where objects with declared properties reject unknown fields."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def validate_object(obj: Any, where: str) -> Problems:
    if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
        return [f"{where}: not a Kubernetes object (apiVersion and kind required)"]
    crd = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd is not None:
        schema = closed(json.loads((SCHEMAS / crd).read_text())["schema"])
        return [
            f"{where}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except ValidationError as exc:
        path = "/".join(map(str, exc.path)) or "<root>"
        return [f"{where}: {path}: {exc.message}"]
    except SchemaNotFoundError:
        return [f"{where}: no schema for {obj['apiVersion']} {obj['kind']} in Kubernetes {KUBERNETES_VERSION}"]
    return []


def check_manifest(path: Path) -> Problems:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"]
    if not docs:
        return [f"{path}: no Kubernetes object"]
    problems: Problems = []
    for i, doc in enumerate(docs):
        problems += validate_object(doc, f"{path}[{i}]")
    return problems


# -- Helm values ------------------------------------------------------------------------------
def chart_keys(text: str) -> set[str]:
    """Dotted key paths of the chart's values.yaml: real keys and keys documented in comments."""
    keys: set[str] = set()
    stack: list[tuple[int, str]] = []
    real = re.compile(r"^(\s*)([A-Za-z_][\w.-]*):(\s|$)")
    commented = re.compile(r"^(\s*)#\s?(\s*)([A-Za-z_][\w-]*):(\s|$)")
    for line in text.splitlines():
        m = real.match(line)
        if m:
            indent = len(m.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, m.group(2)))
            keys.add(".".join(k for _, k in stack))
            continue
        c = commented.match(line)
        if c:
            indent = len(c.group(1)) + len(c.group(2))
            parents = [k for i, k in stack if i < indent]
            keys.add(".".join([*parents, c.group(3)]))
    return keys


def unknown_keys(values: Any, known: set[str], prefix: str = "") -> list[str]:
    out: list[str] = []
    if not isinstance(values, dict):
        return out
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if path not in known:
            out.append(path)
            continue
        if path in FREE_FORM:
            continue
        out += unknown_keys(value, known, path)
    return out


def _env_block(values: dict[str, Any]) -> list[dict[str, Any]]:
    env: dict[str, Any] = {f"KONG_{k.upper()}": v for k, v in (values.get("env") or {}).items()}
    env |= {k.upper(): v for k, v in (values.get("customEnv") or {}).items()}
    out = []
    for name in sorted(env):
        value = env[name]
        out.append({"name": name, **value} if isinstance(value, dict) else {"name": name, "value": str(value)})
    return out


def chart_objects(values: dict[str, Any], release: str = "kong") -> list[dict[str, Any]]:
    """The objects Kong's chart renders from the values we rely on (templates deployment.yaml,
    service-account.yaml, hpa.yaml, pdb.yaml), reduced to those parts."""
    labels = {"app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": release}
    sa = values.get("deployment", {}).get("serviceAccount", {})
    container: dict[str, Any] = {
        "name": "proxy",
        "image": f"{values['image']['repository']}:{values['image']['tag']}",
        "env": _env_block(values),
        "ports": [{"name": "status", "containerPort": values["status"]["http"]["containerPort"], "protocol": "TCP"}],
        "readinessProbe": values.get("readinessProbe"),
        "livenessProbe": values.get("livenessProbe"),
        "lifecycle": values.get("lifecycle"),
        "resources": values.get("resources") or {},
    }
    csc = dict(values.get("containerSecurityContext") or {})
    csc.pop("enabled", None)
    container["securityContext"] = csc
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{release}-kong", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "strategy": values.get("updateStrategy") or {},
            "template": {
                "metadata": {"labels": labels, "annotations": values.get("podAnnotations") or {}},
                "spec": {
                    "serviceAccountName": sa.get("name", f"{release}-kong"),
                    "automountServiceAccountToken": sa.get("automountServiceAccountToken", False),
                    "terminationGracePeriodSeconds": values.get("terminationGracePeriodSeconds", 30),
                    "securityContext": values.get("securityContext") or {},
                    "affinity": values.get("affinity") or {},
                    "containers": [container],
                },
            },
        },
    }
    if not values.get("autoscaling", {}).get("enabled"):
        deployment["spec"]["replicas"] = values.get("replicaCount", 1)
    objects: list[dict[str, Any]] = [deployment]
    if sa.get("create", True):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": sa.get("name", f"{release}-kong"), "annotations": sa.get("annotations") or {}},
            }
        )
    auto = values.get("autoscaling") or {}
    if auto.get("enabled"):
        hpa: dict[str, Any] = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": f"{release}-kong", "labels": labels},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{release}-kong"},
                "minReplicas": auto.get("minReplicas"),
                "maxReplicas": auto.get("maxReplicas"),
                "metrics": auto.get("metrics"),
            },
        }
        if auto.get("behavior"):
            hpa["spec"]["behavior"] = auto["behavior"]
        objects.append(hpa)
    pdb_values = values.get("podDisruptionBudget") or {}
    if pdb_values.get("enabled"):
        spec: dict[str, Any] = {
            "selector": {"matchLabels": {**labels, "app.kubernetes.io/component": "app"}},
            "unhealthyPodEvictionPolicy": pdb_values.get("unhealthyPodEvictionPolicy", "IfHealthyBudget"),
        }
        for key in ("minAvailable", "maxUnavailable"):
            if pdb_values.get(key) is not None:
                spec[key] = pdb_values[key]
        objects.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": f"{release}-kong", "labels": labels},
                "spec": spec,
            }
        )
    return objects


def chart_failures(values: dict[str, Any]) -> Problems:
    """The chart's own `fail` guards (pdb.yaml) and what its templates require."""
    problems: Problems = []
    auto = values.get("autoscaling") or {}
    pdb = values.get("podDisruptionBudget") or {}
    if pdb.get("enabled"):
        if not auto.get("enabled") and int(values.get("replicaCount", 1)) <= 1:
            problems.append("podDisruptionBudget with replicaCount 1 and no autoscaling prevents pod restarts")
        if auto.get("enabled") and int(auto.get("minReplicas", 2)) <= 1:
            problems.append("podDisruptionBudget with autoscaling.minReplicas 1 prevents pod restarts")
        if pdb.get("minAvailable") is not None and pdb.get("maxUnavailable") is not None:
            problems.append("podDisruptionBudget: set only one of minAvailable and maxUnavailable")
    if auto.get("enabled") and int(auto.get("minReplicas", 0)) > int(auto.get("maxReplicas", 0)):
        problems.append("autoscaling.minReplicas is greater than maxReplicas")
    if values.get("dblessConfig") and (values.get("ingressController") or {}).get("enabled", True):
        problems.append("dblessConfig is ignored while ingressController.enabled is true (the chart's default)")
    return problems


def check_values(path: Path) -> Problems:
    try:
        values = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"]
    if not isinstance(values, dict):
        return [f"{path}: Helm values must be a mapping"]
    known = chart_keys(CHART_VALUES.read_text())
    problems = [f"{path}: {key}: not a value of Kong's chart" for key in unknown_keys(values, known)]
    problems += [f"{path}: {p}" for p in chart_failures(values)]
    if problems:
        return problems
    for obj in chart_objects(values):
        problems += validate_object(obj, f"{path} (rendered {obj['kind']})")
    return problems
