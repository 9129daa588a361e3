"""Which files each validator checks in the repository, and running them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from kong_plugins.testing.validate import compose, envvars, kong_config, kube, terraform, tools
from kong_plugins.testing.validate.result import CheckResult, Problems

YAML_GLOBS = (
    "docker-compose.yml",
    "kong-local.yaml",
    "kong-prod.yaml",
    "helm/*.yaml",
    "argocd/*.yaml",
    "deploy/prometheus/*.yml",
    "deploy/grafana/provisioning/*/*.yml",
    ".github/workflows/*.yml",
    ".yamllint",
    ".hadolint.yaml",
    "infra/**/*.yaml",
)


def files(root: Path, *globs: str) -> list[Path]:
    out: list[Path] = []
    for pattern in globs:
        out += sorted(p for p in root.glob(pattern) if p.is_file())
    return out


def _declarative(root: Path, res: CheckResult) -> Problems:
    problems: Problems = []
    for path in res.files:
        found, notes = kong_config.check_file(path)
        problems += found
        res.notes += notes
    return problems


def _each(check: Callable[[Path], Problems]) -> Callable[[Path, CheckResult], Problems]:
    def run_each(root: Path, res: CheckResult) -> Problems:
        return [p for path in res.files for p in check(path)]

    return run_each


Runner = Callable[[Path, CheckResult], Problems]

# name -> (files it checks, runner)
CHECKS: dict[str, tuple[Callable[[Path], list[Path]], Runner]] = {
    "declarative": (lambda r: files(r, "kong-local.yaml", "kong-prod.yaml"), _declarative),
    "yamllint": (lambda r: files(r, *YAML_GLOBS), lambda r, res: tools.yamllint(res.files, r / ".yamllint")),
    "compose": (
        lambda r: files(r, "docker-compose.yml"),
        _each(compose.check),
    ),
    "workflows": (lambda r: files(r, ".github/workflows/*.yml"), _each(compose.check_workflow)),
    "promtool": (lambda r: files(r, "deploy/prometheus/prometheus.yml"), _each(tools.promtool)),
    "kubernetes": (lambda r: files(r, "argocd/*.yaml"), _each(kube.check_manifest)),
    "helm-values": (lambda r: files(r, "helm/kong-values.yaml"), _each(kube.check_values)),
    "terraform": (
        lambda r: files(r, "infra/terraform/**/*.tf", "infra/terraform/**/*.tfvars*"),
        lambda r, res: terraform.check(res.files),
    ),
    "checkov": (
        lambda r: files(r, "infra/terraform/**/*.tf", "Dockerfile.kong"),
        lambda r, res: tools.checkov(r / "infra/terraform", [f for f in res.files if f.name.startswith("Dockerfile")]),
    ),
    "shellcheck": (
        lambda r: files(r, "scripts/*.sh", ".ci/run", "tests/e2e/*.sh"),
        lambda r, res: tools.shellcheck(res.files),
    ),
    "hadolint": (
        lambda r: files(r, "Dockerfile.kong"),
        lambda r, res: [p for f in res.files for p in tools.hadolint(f, r / ".hadolint.yaml")],
    ),
    "nginx-env": (
        lambda r: files(r, "deploy/kong/nginx-env.conf"),
        lambda r, res: [p for f in res.files for p in envvars.check(r / "kong_plugins", f)],
    ),
}


def run(root: Path, names: list[str]) -> list[CheckResult]:
    results = []
    for name in names:
        select, runner = CHECKS[name]
        res = CheckResult(name=name, files=select(root))
        started = time.monotonic()
        if not res.files:
            res.problems.append(f"no files to check under {root} (a validator must never be a no-op)")
        else:
            res.problems += runner(root, res)
        res.seconds = time.monotonic() - started
        results.append(res)
    return results
