"""Every local example of docs/examples.md runs against the dev gateway (as `make dev` starts it,
offline) and does what the doc says; the runner itself fails on a wrong expectation."""

import pytest

from tests.observability import doc_examples as de

EXAMPLES = de.parse(de.EXAMPLES.read_text())
LOCAL = [e for e in EXAMPLES if not e.production]

ROUTES = ("/v1/chat", "/v1/chat/completions", "/v1/messages", "/v1/models", "/converse", "/invoke")
KEYS = ("admin-key-123", "dev-key-123", "analyst-key-123", "ops-key-123", "guest-key-123", "partner-key-123")


@pytest.fixture(scope="module")
def dev_gateway(tmp_path_factory):
    gw = de.DevGateway(tmp_path_factory.mktemp("dev"))
    yield gw
    gw.stop()


def test_every_block_is_either_executed_or_marked_production():
    assert len(LOCAL) >= 20
    for e in EXAMPLES:
        if e.production:
            assert not e.expects and "localhost" not in e.code, e.id
        else:
            assert e.expects, f"{e.id}: a local example without `# expect:` lines would never be checked"
            assert de.LOCAL_URL in e.code or "GATEWAY_URL" in e.code, e.id


def test_examples_cover_every_route_role_and_client():
    local = "\n".join(e.code for e in LOCAL)
    production = "\n".join(e.code for e in EXAMPLES if e.production)
    for route in ROUTES:
        assert route in local and route in production, route
    for key in KEYS:
        assert key in local, key
    for sdk in ("from openai import OpenAI", "import anthropic", "boto3.client"):
        assert sdk in local and sdk in production, sdk
    expects = "\n".join(x for e in LOCAL for x in e.expects)
    for needle in ("status 429", "status 403", "x-guardrail-category", "status 401"):
        assert needle in expects, needle


@pytest.mark.parametrize("example", LOCAL, ids=[e.id for e in LOCAL])
def test_local_example(dev_gateway, example):
    failures = de.verify(example, dev_gateway.url)
    assert not failures, f"docs/examples.md line {example.line}:\n" + "\n".join(failures) + "\n\n" + example.code


# -- the runner is not a no-op ----------------------------------------------------------------


def _copy_with(tmp_path, old, new):
    """docs/examples.md copied with `old` (first occurrence at a line start: in a block, not in
    the table above) replaced; returns the one example that changed."""
    text = de.EXAMPLES.read_text()
    assert "\n" + old in text
    path = tmp_path / "examples.md"
    path.write_text(text.replace("\n" + old, "\n" + new, 1))
    changed = [b for a, b in zip(EXAMPLES, de.parse(path.read_text()), strict=True) if a.code != b.code]
    assert len(changed) == 1
    return changed[0]


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("# expect: status 401", "# expect: status 200", "status 401, expected 200"),
        (
            "# expect: header x-guardrail-category = payment_card",
            "# expect: header x-guardrail-category = credentials",
            "expected 'credentials'",
        ),
        ("# expect: json message = Unauthorized", "# expect: json msg = Unauthorized", "json msg: KeyError"),
        (
            "# expect: stdout contains usage in the last chunk: True",
            "# expect: stdout contains usage in the last chunk: False",
            "stdout lacks",
        ),
    ],
)
def test_a_wrong_expectation_in_a_copied_doc_fails(dev_gateway, tmp_path, old, new, needle):
    changed = _copy_with(tmp_path, old, new)
    failures = de.verify(changed, dev_gateway.url)
    assert any(needle in f for f in failures), failures


def test_a_broken_command_fails(dev_gateway, tmp_path):
    changed = _copy_with(tmp_path, "curl -si http://localhost:8000/v1/models -H 'X-API-Key: dev-key-123'",
                         "curl -si http://localhost:8000/v1/modelz -H 'X-API-Key: dev-key-123'")  # fmt: skip
    assert de.verify(changed, dev_gateway.url)


def test_a_local_block_without_expectations_fails():
    empty = de.Example("bash", "curl -si http://localhost:8000/v1/models\n", 1)
    assert de.verify(empty, "http://127.0.0.1:9") == ["no `# expect:` line: a local example must say what it expects"]
