"""Table-driven golden tests: every case of every golden/*.yaml table."""

from __future__ import annotations

import pytest

from kong_plugins.core.errors import GatewayError
from tests.bedrock_proxy.translators.golden_runner import UPDATE, call, load_tables, plain, save

TABLES = load_tables()
CASES = [
    pytest.param(path, i, id=f"{path.stem}: {case['name']}")
    for path, table in TABLES.items()
    for i, case in enumerate(table["cases"])
]


@pytest.mark.parametrize(("path", "index"), CASES)
def test_golden(path, index):
    table = TABLES[path]
    case = table["cases"][index]
    if "error" in case:
        with pytest.raises(GatewayError) as info:
            call(table["function"], case)
        assert info.value.http_status == case["error"]["status"]
        assert info.value.message.startswith(case["error"]["message"]), info.value.message
        return
    got = plain(call(table["function"], case))
    if UPDATE and "expected" not in case:
        case["expected"] = got
        save(path, table)
        return
    assert "expected" in case, "run with GOLDEN_UPDATE=1 to record, then review the diff"
    assert got == case["expected"]


def test_case_names_are_unique():
    for path, table in TABLES.items():
        names = [case["name"] for case in table["cases"]]
        assert len(names) == len(set(names)), path
