"""What the deployment files must carry (issue 7), checked on the files themselves: the same
Kong settings in the image, compose and Helm; the production config's auth, policy and
secrets; least-privilege IAM; zero-downtime rollout settings; Makefile targets that stop with
a clear message when their tool is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from kong_plugins.testing.validate.render import PLACEHOLDER, RenderError, render
from tests.deploy.conftest import ROOT

PLUGINS = ("bedrock-proxy", "token-meter", "ecommerce-guardrails")
ROUTES = {"/v1/chat", "/v1/chat/completions", "/v1/messages", "/v1/models", "/bedrock"}


def load(rel: str) -> Any:
    return yaml.safe_load((ROOT / rel).read_text())


def dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile.kong").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for name, value in re.findall(r'(\w+)=("(?:\\.|[^"\\])*"|\S+)', line[4:]):
                if value.startswith('"'):
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                env[name] = value
    return env


# -- image --------------------------------------------------------------------------------
def test_dockerfile_pins_kong_builds_a_venv_and_runs_as_kong() -> None:
    text = (ROOT / "Dockerfile.kong").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["kong:3.9.3", "kong:3.9.3"], "multi-stage, pinned"
    assert "python3 -m venv /opt/kong-plugins" in text and "pip install --no-cache-dir /wheels/*.whl" in text
    assert [u for u in re.findall(r"^USER (\S+)", text, re.M)][-1] == "kong"
    assert re.search(r"^HEALTHCHECK .*kong\", \"health", text, re.M)
    for name in PLUGINS:
        assert f"ln -s /opt/kong-plugins/bin/{name} /usr/local/bin/{name}" in text
    assert "COPY --from=build /opt/kong-plugins /opt/kong-plugins" in text


def test_no_credentials_in_any_image_layer() -> None:
    text = (ROOT / "Dockerfile.kong").read_text()
    assert not re.search(r"^(ARG|ENV)\s.*(AWS_|SECRET|PASSWORD|API_KEY)", text, re.M)
    assert not re.search(r"COPY\s+.*\.aws|COPY\s+\.\s", text)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".git", ".venv", ".aws", "**/.env", "**/*.pem"):
        assert pattern in ignored


def _pluginserver_settings(env: dict[str, str], prefix: str) -> None:
    assert env["KONG_PLUGINS"] == "bundled," + ",".join(PLUGINS)
    assert env["KONG_PLUGINSERVER_NAMES"] == ",".join(PLUGINS)
    for name in PLUGINS:
        key = "KONG_PLUGINSERVER_" + name.upper().replace("-", "_")
        assert env[key + "_SOCKET"] == f"{prefix}/{name}.sock", "kong-pdk listens on <name>.sock"
        assert env[key + "_START_CMD"] == f"/usr/local/bin/{name} -kong-prefix {prefix} -g"
        assert env[key + "_QUERY_CMD"] == f"/usr/local/bin/{name} -dump"


def test_image_kong_settings() -> None:
    env = dockerfile_env()
    _pluginserver_settings(env, "/usr/local/kong")
    assert env["KONG_LOG_LEVEL"] in ("info", "debug"), "Python output is logged at INFO"
    assert env["KONG_STATUS_LISTEN"] == "0.0.0.0:8100"
    assert env["KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE"] == "2m", "plugins read bodies up to 1 MiB from memory"
    assert env["KONG_NGINX_HTTP_CLIENT_MAX_BODY_SIZE"] == "2m"
    assert env["KONG_NGINX_MAIN_INCLUDE"] == "/etc/kong/nginx-env.conf"


def test_access_log_never_shows_query_strings() -> None:
    """key-auth accepts ?apikey=; nginx's default log line ($request) would print it."""
    image = dockerfile_env()
    helm = load("helm/kong-values.yaml")["env"]
    for fmt, access_log in (
        (image["KONG_NGINX_HTTP_LOG_FORMAT"], image["KONG_PROXY_ACCESS_LOG"]),
        (helm["nginx_http_log_format"], helm["proxy_access_log"]),
    ):
        name = fmt.split()[0]
        assert access_log.split()[-1] == name
        assert "$uri" in fmt and not re.search(r"\$(request|request_uri|args|query_string|arg_\w+)\b", fmt)
        assert fmt.count("'") == 2 and fmt.count('"') % 2 == 0


def test_helm_uses_the_same_settings_under_kong_prefix() -> None:
    values = load("helm/kong-values.yaml")
    env = {f"KONG_{k.upper()}": str(v) for k, v in values["env"].items()}
    env["KONG_PLUGINS"] = "bundled," + values["plugins"]["preInstalled"]
    _pluginserver_settings(env, "/kong_prefix")
    assert values["env"]["prefix"] == "/kong_prefix/"
    image_env = dockerfile_env()
    for key in ("KONG_LOG_LEVEL", "KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE", "KONG_NGINX_MAIN_INCLUDE"):
        assert env[key] == image_env[key]


# -- compose ------------------------------------------------------------------------------
def test_compose_stack() -> None:
    c = load("docker-compose.yml")
    svc = c["services"]
    kong = svc["kong"]
    assert kong["build"]["dockerfile"] == "Dockerfile.kong"
    assert kong["environment"]["KONG_DATABASE"] == "off"
    assert "./kong-local.yaml:/kong/kong.yaml:ro" in kong["volumes"]
    assert any(v.startswith("${HOME}/.aws:") and v.endswith(":ro") for v in kong["volumes"])
    assert "AWS_PROFILE" in kong["environment"]
    assert svc["bedrock-emulator"]["profiles"] == ["offline"]
    assert "kong_plugins.testing.bedrock_emulator" in " ".join(svc["bedrock-emulator"]["entrypoint"])
    assert svc["bedrock-emulator"]["command"] == ["--port", "4010", "--host", "0.0.0.0"]
    assert svc["kong-migrations"]["command"] == ["kong", "migrations", "bootstrap"]
    assert svc["deck-sync"]["command"][:2] == ["gateway", "sync"]
    assert svc["deck-sync"]["depends_on"]["kong-db"]["condition"] == "service_healthy"
    assert svc["kong-db"]["depends_on"]["kong-migrations"]["condition"] == "service_completed_successfully"
    for name, s in svc.items():
        if name not in ("kong-migrations", "deck-sync"):
            assert "healthcheck" in s, f"{name} has no healthcheck"
    assert "./grafana-local.json:/var/lib/grafana/dashboards/grafana-local.json:ro" in svc["grafana"]["volumes"]


def test_prometheus_scrapes_kong_status_and_token_meter() -> None:
    from kong_plugins.token_meter.schema import SCHEMA

    prom = load("deploy/prometheus/prometheus.yml")
    targets = {t for job in prom["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    status_port = dockerfile_env()["KONG_STATUS_LISTEN"].rsplit(":", 1)[1]
    (metrics_port,) = [f["metrics_port"]["default"] for f in SCHEMA if "metrics_port" in f]
    assert targets == {f"kong:{status_port}", f"kong:{metrics_port}"}


# -- declarative files --------------------------------------------------------------------
@pytest.mark.parametrize("rel", ["kong-local.yaml", "kong-prod.yaml"])
def test_declarative_files_have_every_route_and_plugin(rel: str) -> None:
    cfg = load(rel)
    assert cfg["_format_version"] == "3.0" and "consumer_groups" not in cfg
    routes = {p for s in cfg["services"] for r in s["routes"] for p in r["paths"]}
    assert routes == ROUTES
    plugins = [p["name"] for s in cfg["services"] for p in s.get("plugins", [])] + [
        p["name"] for p in cfg.get("plugins", [])
    ]
    for name in PLUGINS:
        assert name in plugins
    for s in cfg["services"]:
        assert s["read_timeout"] >= 300000, "LLM answers take minutes"


def test_local_key_auth_hides_credentials_and_file_log_has_no_bodies() -> None:
    cfg = load("kong-local.yaml")
    every = [p for s in cfg["services"] for p in s.get("plugins", [])] + cfg.get("plugins", [])
    key_auth = [p for p in every if p["name"] == "key-auth"]
    assert key_auth and all(p["config"]["hide_credentials"] is True for p in key_auth)
    (file_log,) = [p for p in every if p["name"] == "file-log"]
    assert "custom_fields_by_lua" not in file_log["config"], "no extra fields (bodies) in Kong's log"


def test_prod_uses_jwt_rs256_redis_cloudwatch_datadog_and_no_dev_keys() -> None:
    cfg = load("kong-prod.yaml")
    text = (ROOT / "kong-prod.yaml").read_text()
    assert "keyauth_credentials" not in text and "key-auth" not in text
    assert not re.search(r"(dev|admin|guest|analyst|ops|partner)-key-\d+", text)
    (idp,) = cfg["consumers"]
    (secret,) = idp["jwt_secrets"]
    assert secret["algorithm"] == "RS256"
    assert PLACEHOLDER.match(secret["rsa_public_key"]) and PLACEHOLDER.match(secret["key"])
    plugins = {p["name"]: p.get("config", {}) for p in cfg["plugins"]}
    assert plugins["jwt"]["claims_to_verify"] == ["exp"]
    tm = plugins["token-meter"]
    assert tm["policy"] == "redis" and tm["redis_ssl"] is True and tm["redis_password"].startswith("{vault://env/")
    assert tm["cloudwatch_put_metrics"] is True
    assert tm["dogstatsd_host"]
    assert plugins["datadog"]["host"] == "{vault://env/dd-agent-host}"
    assert plugins["prometheus"]["ai_metrics"] is True


def test_prod_secrets_are_vault_references_or_render_placeholders() -> None:
    cfg = load("kong-prod.yaml")

    def walk(node: Any, path: str = "") -> list[str]:
        out = []
        if isinstance(node, dict):
            for k, v in node.items():
                sensitive = re.search(r"password|secret|token|api_key|apikey|rsa_public_key", str(k))
                if sensitive and isinstance(v, str) and not (v.startswith("{vault://") or PLACEHOLDER.match(v)):
                    out.append(f"{path}.{k}")
                out += walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out += walk(v, f"{path}[{i}]")
        return out

    assert walk(cfg) == []


def test_cloudwatch_namespace_matches_the_iam_condition() -> None:
    tm = {p["name"]: p["config"] for p in load("kong-prod.yaml")["plugins"]}["token-meter"]
    variables = hcl2.loads((ROOT / "infra/terraform/modules/bedrock/variables.tf").read_text())
    (ns,) = [v['"cloudwatch_namespace"'] for v in variables["variable"] if '"cloudwatch_namespace"' in v]
    assert ns["default"].strip('"') == tm["cloudwatch_namespace"]


def test_render_keeps_a_multiline_pem_intact_and_names_missing_variables() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMIIB\nIDAQAB\n-----END PUBLIC KEY-----\n"
    doc = {"a": [{"k": '${{ env "DECK_PEM" }}'}], "b": '${{ env "DECK_LATER" }}'}
    out = render(doc, {"DECK_PEM": pem}, defer=frozenset({"DECK_LATER"}))
    assert out == {"a": [{"k": pem}], "b": '${{ env "DECK_LATER" }}'}
    assert yaml.safe_load(yaml.safe_dump(out))["a"][0]["k"] == pem
    with pytest.raises(RenderError, match="DECK_PEM"):
        render(doc, {}, defer=frozenset({"DECK_LATER"}))


def test_terraform_substitutes_exactly_the_deferred_placeholder() -> None:
    main = (ROOT / "infra/terraform/modules/kong/main.tf").read_text()
    (hcl_literal,) = re.findall(r'replace\(var\.declarative_config, "(.*?)", var\.redis_host\)', main)
    literal = hcl_literal.replace("$${", "${").replace('\\"', '"')
    prod = (ROOT / "kong-prod.yaml").read_text()
    assert literal == '${{ env "DECK_REDIS_HOST" }}' and literal in prod


# -- Helm ---------------------------------------------------------------------------------
def test_helm_values_for_eks() -> None:
    v = load("helm/kong-values.yaml")
    assert v["ingressController"]["enabled"] is False and v["dblessConfig"]["secret"] == "kong-dbless-config"
    assert v["autoscaling"]["enabled"] and v["autoscaling"]["minReplicas"] >= 2
    assert v["autoscaling"]["metrics"][0]["resource"]["name"] == "cpu"
    assert v["podDisruptionBudget"]["enabled"] is True
    assert v["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert v["readinessProbe"]["httpGet"] == {"path": "/status/ready", "port": "status", "scheme": "HTTP"}
    assert v["livenessProbe"]["httpGet"]["port"] == "status"
    assert v["resources"]["requests"] and v["resources"]["limits"]
    ann = v["podAnnotations"]
    assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == "8100"
    assert any(k.startswith("ad.datadoghq.com/") for k in ann)
    assert "eks.amazonaws.com/role-arn" in v["deployment"]["serviceAccount"]["annotations"]
    assert v["customEnv"]["dd_agent_host"] == {"valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}
    assert v["terminationGracePeriodSeconds"] > 300, "in-flight LLM calls (read_timeout 300 s) may finish"


def test_names_shared_between_helm_terraform_and_argocd_agree() -> None:
    v = load("helm/kong-values.yaml")
    kong_tf = (ROOT / "infra/terraform/modules/kong/main.tf").read_text()
    kong_vars = (ROOT / "infra/terraform/modules/kong/variables.tf").read_text()
    assert f'name      = "{v["dblessConfig"]["secret"]}"' in kong_tf
    assert f'name      = "{v["customEnv"]["redis_auth_token"]["valueFrom"]["secretKeyRef"]["name"]}"' in kong_tf
    assert f'default     = "{v["deployment"]["serviceAccount"]["name"]}"' in kong_vars
    bedrock_vars = (ROOT / "infra/terraform/modules/bedrock/variables.tf").read_text()
    assert f'default     = "{v["deployment"]["serviceAccount"]["name"]}"' in bedrock_vars
    app = load("argocd/kong.yaml")
    chart = app["spec"]["sources"][0]
    assert f'default     = "{chart["targetRevision"]}"' in kong_vars
    assert chart["helm"]["valueFiles"] == ["$values/helm/kong-values.yaml"]


# -- Terraform ----------------------------------------------------------------------------
def _iam_statements() -> dict[str, dict[str, Any]]:
    doc = hcl2.loads((ROOT / "infra/terraform/modules/bedrock/main.tf").read_text())
    out = {}
    for entry in doc["data"]:
        for kind, blocks in entry.items():
            if kind.strip('"') != "aws_iam_policy_document":
                continue
            for body in blocks.values():
                for st in body["statement"]:
                    out[st["sid"].strip('"')] = st
    return out


def test_iam_is_least_privilege() -> None:
    st = _iam_statements()
    invoke = st["InvokeConfiguredModelsOnly"]
    assert sorted(a.strip('"') for a in invoke["actions"]) == [
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
    ]
    assert "*" not in str(invoke["resources"]) and "foundation_model_arns" in str(invoke["resources"])
    metrics = st["PutMetricsInOurNamespaceOnly"]
    assert [a.strip('"') for a in metrics["actions"]] == ["cloudwatch:PutMetricData"]
    assert metrics["condition"][0]["variable"].strip('"') == "cloudwatch:namespace"
    trust = st["KongServiceAccountOnly"]
    assert [a.strip('"') for a in trust["actions"]] == ["sts:AssumeRoleWithWebIdentity"]
    subs = [c for c in trust["condition"] if c["variable"].endswith(':sub"')]
    assert subs and "system:serviceaccount:${var.kong_namespace}:${var.kong_service_account}" in str(subs[0]["values"])


def test_redis_has_tls_auth_and_failover() -> None:
    doc = hcl2.loads((ROOT / "infra/terraform/modules/redis/main.tf").read_text())
    (rg,) = [
        b['"aws_elasticache_replication_group"']['"this"']
        for b in doc["resource"]
        if '"aws_elasticache_replication_group"' in b
    ]
    assert rg["transit_encryption_enabled"] is True and rg["at_rest_encryption_enabled"] is True
    assert "random_password.auth_token" in rg["auth_token"]
    assert rg["automatic_failover_enabled"] is True and rg["multi_az_enabled"] is True


def test_kong_module_installs_the_chart_with_our_values() -> None:
    doc = hcl2.loads((ROOT / "infra/terraform/modules/kong/main.tf").read_text())
    (rel,) = [b['"helm_release"']['"kong"'] for b in doc["resource"] if '"helm_release"' in b]
    assert rel["chart"].strip('"') == "kong" and rel["repository"].strip('"') == "https://charts.konghq.com"
    assert "file(var.values_file)" in str(rel["values"])
    assert any("role-arn" in s["name"] for s in rel["set"])
    env_main = (ROOT / "infra/terraform/envs/prod/main.tf").read_text()
    assert 'values_file          = "${path.module}/../../../../helm/kong-values.yaml"' in env_main
    assert (ROOT / "infra/terraform/envs/prod" / "../../../../helm/kong-values.yaml").resolve().exists()


# -- ArgoCD -------------------------------------------------------------------------------
def test_argocd_sync_is_zero_downtime() -> None:
    app = load("argocd/kong.yaml")
    sync = app["spec"]["syncPolicy"]
    assert sync["automated"] == {"prune": True, "selfHeal": True, "allowEmpty": False}
    assert "PruneLast=true" in sync["syncOptions"] and "ApplyOutOfSyncOnly=true" in sync["syncOptions"]
    assert sync["retry"]["limit"] > 0
    assert {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]} in app["spec"][
        "ignoreDifferences"
    ]


# -- Makefile -----------------------------------------------------------------------------
def test_makefile_has_every_target_and_test_runs_validate() -> None:
    text = (ROOT / "Makefile").read_text()
    for target in (
        "local/up", "local/down", "local/logs", "local/test", "eks/plan", "eks/apply", "eks/deploy",
        "eks/status", "validate", "test", "security-scan", "dev", "bench",
    ):  # fmt: skip
        assert re.search(rf"^{re.escape(target)}:", text, re.M), target
    (test_line,) = re.findall(r"^test:.*$", text, re.M)
    assert "validate" in test_line.split("##")[0]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("local/down", "no Docker engine answers"),
        ("local/logs", "no Docker engine answers"),
        ("eks/status", "'kubectl' not found"),
        ("eks/apply", "'terraform' not found"),
    ],
)
def test_targets_stop_with_a_clear_message_when_their_tool_is_missing(
    tmp_path: Path, target: str, message: str
) -> None:
    """A PATH with only bash, make and the docker CLI (whose engine is unreachable)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sh", "make", "docker", "env"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if target.startswith("local/") and not (bin_dir / "docker").exists():
        message = "'docker' not found"
    env = {**os.environ, "PATH": str(bin_dir), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    res = subprocess.run(
        ["make", "-s", "--no-print-directory", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


def test_yaml_files_use_no_anchors() -> None:
    for rel in ("kong-local.yaml", "kong-prod.yaml"):
        assert not re.search(r"(^|\s)[&*][a-z]|<<:", (ROOT / rel).read_text()), rel


def test_every_env_placeholder_is_documented() -> None:
    names = set(re.findall(r"DECK_[A-Z_]+", (ROOT / "kong-prod.yaml").read_text()))
    doc = (ROOT / "docs/deployment.md").read_text()
    assert names and all(n in doc for n in names)


@pytest.mark.parametrize(
    ("offline", "extra_env", "profile", "endpoint"),
    [
        ("1", {}, "--profile offline", "http://bedrock-emulator:4010"),
        ("0", {"AWS_PROFILE": "bedrock-dev"}, None, ""),
        ("auto", {}, "--profile offline", "http://bedrock-emulator:4010"),  # HOME without ~/.aws
    ],
)
def test_local_up_runs_compose_online_or_offline(
    tmp_path: Path, offline: str, extra_env: dict[str, str], profile: str | None, endpoint: str
) -> None:
    """`make local/up` with a stand-in docker that records how compose was called."""
    bin_dir, home, record = tmp_path / "bin", tmp_path / "home", tmp_path / "docker.log"
    bin_dir.mkdir()
    home.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(
        f'#!/bin/sh\necho "$* | endpoint=$AWS_ENDPOINT_URL_BEDROCK_RUNTIME | profile=$AWS_PROFILE" >> {record}\n'
    )
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", HOME=str(home), **extra_env)
    res = subprocess.run(
        ["make", "-s", "--no-print-directory", "local/up", f"OFFLINE={offline}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    calls = record.read_text().splitlines()
    assert calls[0].startswith("info")
    (up,) = [c for c in calls if " up " in f" {c} "]
    assert up.startswith("compose " + (f"{profile} " if profile else "") + "up -d --build --wait")
    assert f"endpoint={endpoint} |" in up
    if extra_env:
        assert "profile=bedrock-dev" in up
    else:
        assert up.endswith("profile=")  # never an empty or default AWS_PROFILE offline
