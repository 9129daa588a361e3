"""The alert rules are checked and unit-tested by the real promtool, and the checks bite."""

import shutil
import subprocess
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool is missing: run scripts/bootstrap.sh"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def copy_rules(tmp_path: Path) -> Path:
    for name in ("alerts.yml", "alerts_test.yml"):
        shutil.copy(RULES_DIR / name, tmp_path / name)
    return tmp_path


def test_rules_are_valid():
    r = promtool("check", "rules", "alerts.yml", cwd=RULES_DIR)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 rules found" in r.stdout


def test_each_alert_fires_at_its_threshold_and_not_below():
    r = promtool("test", "rules", "alerts_test.yml", cwd=RULES_DIR)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_has_a_runbook_section():
    runbook = (RULES_DIR.parents[1] / "docs" / "runbooks" / "incident-response.md").read_text().lower()
    text = (RULES_DIR / "alerts.yml").read_text()
    anchors = [line.split("#", 1)[1].strip().strip('"') for line in text.splitlines() if "runbook_url" in line]
    assert len(anchors) == 4
    for anchor in anchors:
        assert f"## {anchor}" in runbook.replace("`", ""), anchor


def test_check_rules_fails_on_a_broken_expression(tmp_path):
    d = copy_rules(tmp_path)
    rules = d / "alerts.yml"
    rules.write_text(rules.read_text().replace("> 0.05", "> > 0.05"))
    assert promtool("check", "rules", "alerts.yml", cwd=d).returncode != 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("> 100000", "> 120000"),  # token alert would not fire at 108k
        ("[1m])) > 10", "[1m])) > 5"),  # rate-limit alert would fire for 8/min too
        ("> 0.05", "> 0.07"),
        ("> 30\n", "> 60\n"),
    ],
)
def test_rule_unit_tests_catch_a_moved_threshold(tmp_path, old, new):
    d = copy_rules(tmp_path)
    rules = d / "alerts.yml"
    text = rules.read_text()
    assert old in text
    rules.write_text(text.replace(old, new))
    assert promtool("test", "rules", "alerts_test.yml", cwd=d).returncode != 0
