"""A throwaway copy of the repository's deployment files, so a test can break one file and run
a validator on the copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIED = (
    "Dockerfile.kong",
    ".hadolint.yaml",
    ".yamllint",
    "docker-compose.yml",
    "kong-local.yaml",
    "kong-prod.yaml",
    "grafana-local.json",
    "helm",
    "argocd",
    "deploy",
    "infra",
    "scripts",
    ".ci",
    ".github",
    "kong_plugins",
)
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "tfplan", "*.tfstate*")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=IGNORE)
        elif src.exists():
            shutil.copy2(src, tmp_path / name)
    return tmp_path
