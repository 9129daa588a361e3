"""`make validate`: every validator passes on the real files and fails on a seeded breakage
(no validator may be a no-op)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kong_plugins.testing.validate.result import CheckResult
from kong_plugins.testing.validate.runner import CHECKS, run
from tests.deploy.conftest import ROOT


def _one(root: Path, name: str) -> CheckResult:
    (res,) = run(root, [name])
    return res


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_real_files_pass(name: str) -> None:
    res = _one(ROOT, name)
    assert res.files, f"{name} checked no file"
    assert res.ok, "\n".join(res.problems)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"seed anchor {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _yaml_edit(path: Path, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


# (check, seeded breakage, expected fragment of a problem)
SEEDS: list[tuple[str, str, Callable[[Path], None], str]] = [
    (
        "declarative",
        "consumer_groups in kong-local.yaml (Kong Enterprise only)",
        lambda r: _append(r / "kong-local.yaml", "consumer_groups:\n  - name: gold\n"),
        "consumer_groups",
    ),
    (
        "declarative",
        "unknown key in a Python plugin's config (against its dumped schema)",
        lambda r: _yaml_edit(r / "kong-prod.yaml", lambda d: d["plugins"][2]["config"].update(jwt_role_claimz="x")),
        "jwt_role_claimz",
    ),
    (
        "declarative",
        "wrong type in a bundled plugin's config (datadog port)",
        lambda r: _yaml_edit(r / "kong-prod.yaml", lambda d: d["plugins"][-1]["config"].update(port="eighty")),
        "port",
    ),
    (
        "declarative",
        "acl with both allow and deny",
        lambda r: _yaml_edit(
            r / "kong-prod.yaml",
            lambda d: d["plugins"].append({"name": "acl", "config": {"allow": ["a"], "deny": ["b"]}}),
        ),
        "config.deny",
    ),
    (
        "declarative",
        "_format_version 2.1 instead of 3.0",
        lambda r: _edit(r / "kong-prod.yaml", '_format_version: "3.0"', '_format_version: "2.1"'),
        "_format_version",
    ),
    (
        "declarative",
        "a YAML anchor and alias (Kong's lyaml may not resolve them)",
        lambda r: _edit(r / "kong-prod.yaml", "  - name: jwt\n    config:\n", "  - name: jwt\n    config: &jwt\n"),
        "anchor",
    ),
    (
        "yamllint",
        "duplicate key in the Helm values",
        lambda r: _edit(r / "helm/kong-values.yaml", "replicaCount: 3\n", "replicaCount: 3\nreplicaCount: 4\n"),
        "duplication",
    ),
    (
        "compose",
        "misspelt service key",
        lambda r: _edit(r / "docker-compose.yml", "    image: redis:", "    imag: redis:"),
        "imag",
    ),
    (
        "compose",
        "depends_on an unknown service",
        lambda r: _edit(
            r / "docker-compose.yml", "      redis:\n        condition", "      rediss:\n        condition"
        ),
        "rediss",
    ),
    (
        "compose",
        "a bind mount of a file that does not exist",
        lambda r: _edit(
            r / "docker-compose.yml", "./kong-local.yaml:/kong/kong.yaml:ro", "./kong-locall.yaml:/kong/kong.yaml:ro"
        ),
        "kong-locall.yaml",
    ),
    (
        "workflows",
        "a job without runs-on",
        lambda r: _edit(r / ".github/workflows/ci.yml", "    runs-on: ubuntu-24.04\n    timeout-minutes: 20\n", ""),
        "runs-on",
    ),
    (
        "promtool",
        "scrape interval that is not a duration",
        lambda r: _edit(r / "deploy/prometheus/prometheus.yml", "scrape_interval: 15s", "scrape_interval: 15 seconds"),
        "promtool",
    ),
    (
        "kubernetes",
        "ArgoCD Application with a misspelt syncPolicy field",
        lambda r: _edit(r / "argocd/kong.yaml", "    automated:\n", "    automatic:\n"),
        "automatic",
    ),
    (
        "kubernetes",
        "ArgoCD AppProject destination without a namespace type",
        lambda r: _edit(r / "argocd/project.yaml", "      namespace: kong", "      namespace: [kong]"),
        "namespace",
    ),
    (
        "helm-values",
        "a key Kong's chart does not have",
        lambda r: _edit(
            r / "helm/kong-values.yaml", "autoscaling:\n", "autoscalling:\n  enabled: true\nautoscaling:\n"
        ),
        "autoscalling",
    ),
    (
        "helm-values",
        "a probe the rendered Deployment cannot carry (port as a list)",
        lambda r: _edit(r / "helm/kong-values.yaml", "    port: status\n", "    port: [status]\n"),
        "readinessProbe",
    ),
    (
        "helm-values",
        "PDB with autoscaling.minReplicas 1 (the chart refuses it)",
        lambda r: _edit(r / "helm/kong-values.yaml", "  minReplicas: 3\n", "  minReplicas: 1\n"),
        "minReplicas 1",
    ),
    (
        "terraform",
        "HCL syntax error",
        lambda r: _edit(
            r / "infra/terraform/modules/bedrock/main.tf",
            'resource "aws_iam_role" "kong" {',
            'resource "aws_iam_role" "kong" {{',
        ),
        "HCL parse error",
    ),
    (
        "terraform",
        "attribute not aligned the terraform fmt way",
        lambda r: _edit(
            r / "infra/terraform/modules/redis/main.tf", "  engine_version       = var", "  engine_version = var"
        ),
        "aligned",
    ),
    (
        "terraform",
        "variable without a description",
        lambda r: _edit(
            r / "infra/terraform/modules/kong/variables.tf",
            '  description = "Helm release name."\n',
            "",
        ),
        "no description",
    ),
    (
        "terraform",
        "registry module without an exact version",
        lambda r: _edit(r / "infra/terraform/modules/eks/main.tf", 'version = "5.16.0"', 'version = "~> 5.16"'),
        "exact version",
    ),
    (
        "checkov",
        "Redis without TLS in transit",
        lambda r: _edit(
            r / "infra/terraform/modules/redis/main.tf",
            "transit_encryption_enabled = true",
            "transit_encryption_enabled = false",
        ),
        "CKV_AWS_30",
    ),
    (
        "checkov",
        "image without a HEALTHCHECK",
        lambda r: _edit(r / "Dockerfile.kong", "HEALTHCHECK ", "# HEALTHCHECK "),
        "CKV_DOCKER_2",
    ),
    (
        "shellcheck",
        "unquoted variable in rm",
        lambda r: (r / "scripts" / "seeded.sh").write_text("#!/usr/bin/env bash\nrm -rf $1/*\n"),
        "SC2",
    ),
    (
        "hadolint",
        "unpinned base image",
        lambda r: _edit(r / "Dockerfile.kong", "FROM kong:3.9.3 AS build", "FROM kong:latest AS build"),
        "DL3007",
    ),
    (
        "nginx-env",
        "a plugin reads an environment variable nginx would hide",
        lambda r: (r / "kong_plugins" / "core" / "seeded.py").write_text(
            'import os\n\nTOKEN = os.environ.get("SEEDED_NEW_VARIABLE")\n'
        ),
        "SEEDED_NEW_VARIABLE",
    ),
]


@pytest.mark.parametrize(("name", "seed", "breakage", "expected"), SEEDS, ids=[f"{s[0]}: {s[1]}" for s in SEEDS])
def test_seeded_breakage_fails(
    repo: Path, name: str, seed: str, breakage: Callable[[Path], None], expected: str
) -> None:
    if name != "checkov":  # slow; test_real_files_pass covers the unbroken files
        assert _one(repo, name).ok, f"the copy must pass before the breakage ({seed})"
    breakage(repo)
    res = _one(repo, name)
    assert not res.ok, f"{name} did not notice: {seed}"
    assert any(expected in p for p in res.problems), f"{expected!r} not in:\n" + "\n".join(res.problems)


def test_every_validator_has_a_seeded_breakage() -> None:
    assert {s[0] for s in SEEDS} == set(CHECKS)


def test_no_files_is_a_failure_not_a_pass(tmp_path: Path) -> None:
    for res in run(tmp_path, [n for n in CHECKS if n != "nginx-env"]):
        assert not res.ok and "no-op" in res.problems[0], res.name


def test_cli_exit_codes(repo: Path) -> None:
    from kong_plugins.testing.validate.__main__ import main

    assert main(["--root", str(repo), "compose", "promtool"]) == 0
    _edit(repo / "docker-compose.yml", "    image: redis:", "    imag: redis:")
    assert main(["--root", str(repo), "compose"]) == 1


def test_problem_lines_name_the_file(repo: Path) -> None:
    _edit(repo / "helm/kong-values.yaml", "autoscaling:\n", "autoscalling:\n  enabled: true\nautoscaling:\n")
    res = _one(repo, "helm-values")
    assert all(re.search(r"kong-values\.yaml", p) for p in res.problems)


# The built-in terraform-fmt check stands in for `terraform fmt -check` where the binary is
# missing; each case's verdict was taken from terraform 1.11 and is re-checked against the
# binary whenever it exists.
FMT_CASES: list[tuple[str, str, bool]] = [
    ("aligned", 'resource "a" "b" {\n  x   = 1\n  yyy = 2\n}\n', True),
    ("misaligned", 'resource "a" "b" {\n  x = 1\n  yyy = 2\n}\n', False),
    ("blank line splits groups", 'resource "a" "b" {\n  x = 1\n\n  yyy = 2\n}\n', True),
    ("multi-line value ends a group", 'resource "a" "b" {\n  x = 1\n  yyy = [\n    1,\n  ]\n  zz = 2\n}\n', True),
    ("indent 4", 'resource "a" "b" {\n    x = 1\n}\n', False),
    ("nested jsonencode", 'resource "a" "b" {\n  p = jsonencode({\n    A   = 1\n    BBB = 2\n  })\n}\n', True),
    ("nested misaligned", 'resource "a" "b" {\n  p = jsonencode({\n    A = 1\n    BBB = 2\n  })\n}\n', False),
    ("trailing space", 'resource "a" "b" {\n  x = 1 \n}\n', False),
    ("two spaces after =", 'resource "a" "b" {\n  x =  1\n}\n', False),
    (
        "heredoc joins the group",
        'variable "v" {\n  description = <<-EOT\n    text\n  EOT\n  type        = string\n}\n',
        True,
    ),
    (
        "block",
        'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n',
        True,
    ),
]


@pytest.mark.parametrize(("label", "text", "formatted"), FMT_CASES, ids=[c[0] for c in FMT_CASES])
def test_fmt_check_matches_terraform_fmt(tmp_path: Path, label: str, text: str, formatted: bool) -> None:
    from kong_plugins.testing.validate.result import find_tool, run_tool
    from kong_plugins.testing.validate.terraform import fmt_problems

    path = tmp_path / "case.tf"
    path.write_text(text)
    assert (not fmt_problems(path, text)) == formatted, fmt_problems(path, text)
    exe = find_tool("terraform")
    if exe:
        code, _ = run_tool([exe, "fmt", "-check", str(path)])
        assert (code == 0) == formatted, f"terraform fmt disagrees on {label}"
