"""The decision log's canonical JSON is what auditors recompute with the standard library:
``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``.  The fast
path (orjson) must give the same text for every value, or fall back to that call."""

from __future__ import annotations

import datetime as dt
import enum
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store.decisions import canonical


def stdlib(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


leaves = (st.none() | st.booleans() | st.text() | st.integers()
          | st.integers(min_value=2**63 - 2, max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False))
keys = st.text() | st.integers(min_value=-5, max_value=5)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)
                      | st.tuples(inner, inner), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(values)
def test_canonical_is_the_standard_librarys_text(obj):
    # Mixed int and str keys cannot be sorted: the standard library refuses them, and so must we.
    assert outcome(canonical, obj) == outcome(stdlib, obj)


def outcome(encode, obj) -> tuple[str, str]:
    try:
        return "text", encode(obj)
    except TypeError:
        return "refused", ""


class Colour(enum.IntEnum):
    RED = 1


def test_floats_and_types_orjson_writes_differently_take_the_standard_librarys_way():
    cases = [{"x": 1e-05}, {"x": 1e16}, [0.1, 2.5e-7], {"b": {"c": [1, {"d": 1e22}]}}, {"n": Colour.RED},
             {"big": 2**64}, {3: "int key", 1: "x"}, "控制字符\x00\x1f\u2028", {"é": 1, "e": 2, "z": 3}]
    for obj in cases:
        assert canonical(obj) == stdlib(obj), obj
    assert canonical({"x": 1e-05}) == '{"x":1e-05}'
    assert canonical({"n": Colour.RED}) == '{"n":1}'


@pytest.mark.parametrize("obj", [{"when": dt.date(2024, 1, 1)}, {"s": {1, 2}}])
def test_what_the_standard_library_refuses_is_refused(obj):
    with pytest.raises(TypeError):
        canonical(obj)
