"""Hypothesis strategies for hostile request bodies, shared by the pure and end-to-end tests."""

from __future__ import annotations

import json

from hypothesis import strategies as st

ATTACK_BITS = [
    "4526 0181 5908 3012", "' OR 1=1 --", "UNION SELECT", "password=", "my password is ", "cvv 123",
    "AKIA", "-----BEGIN RSA PRIVATE KEY-----", "eyJ", "\u200b", "\x00", "\ud800", "ｓｅｌｅｃｔ", "/*", "*/",
    "select * from ", ";", "'", '"', "card ", "4 ", "-", "bypass payment", "s e l e c t ",
]  # fmt: skip

texts = st.lists(st.one_of(st.sampled_from(ATTACK_BITS), st.text(max_size=40)), max_size=30).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=40,
)


def _nested(depth: int) -> bytes:
    return b'{"messages":' + b"[" * depth + b'"card 4526 0181 5908 3012"' + b"]" * depth + b"}"


def hostile_bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=64).map(lambda b: b'{"messages":[{"role":"user","content":"' + b + b'"}]}'),  # bad UTF-8
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps({"messages": [{"role": "user", "content": v}]}).encode()),
        st.integers(min_value=1, max_value=50_000).map(_nested),  # past json's recursion limit
        st.tuples(st.sampled_from(ATTACK_BITS), st.integers(1, 40_000)).map(
            lambda t: json.dumps({"messages": [{"role": "user", "content": t[0] * t[1]}]}).encode()
        ),
        st.just(b""),
        st.just(b"null"),
        st.just(b'"a bare JSON string with a card 4526 0181 5908 3012"'),
    )
