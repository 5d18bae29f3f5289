"""Each guard of app/engine/durable.py against a measured durable-rules trap
(docs/engine.md) has a test here."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from app.engine import durable, reference
from app.engine.program import build

F = Fraction


def test_fact_with_no_value_reaches_the_sentinel_and_deletes_state_safely():
    # A fact that matches no comparison rule must neither raise MessageNotHandled
    # nor segfault in delete_state: the sentinel rule always runs an action.
    p = build([("a", ">=", F(1)), ("b", "is_true", True)])
    assert durable.evaluate(p, {}) == {"c0": "absent", "c1": "absent"}


def test_every_rule_yields_a_finding_on_every_evaluation():
    # post() consumes an event at the first rule that fires (296 of 300 lost findings);
    # assert_fact must give one outcome per check, every time.
    p = build([("a", ">=", F(1)), ("a", "<=", F(10)), ("b", "between", (F(1), F(2))), ("c", "<", F(5))])
    for i in range(300):
        v = {"a": F(i % 12), "b": F(i % 3), "c": F(i % 7)}
        assert durable.evaluate(p, v) == reference.evaluate(p, v)


def test_more_than_1024_sequential_sessions_do_not_exhaust_the_ruleset():
    # >1,024 live sessions raise MemoryError and break the rule set for good;
    # every session must be deleted after its evaluation.
    p = build([("a", ">", F(3))])
    for i in range(3000):
        assert durable.evaluate(p, {"a": F(i % 7)})["c0"] == ("pass" if i % 7 > 3 else "fail")


def test_concurrent_threads_are_serialized_and_answer_like_the_reference():
    # The engine segfaults when two threads evaluate at once: one lock per process.
    p = build([("a", ">=", F(7, 10)), ("b", "<=", F(20)), ("c", "in", (F(1), F(2), F(3)))])
    errors: list[str] = []

    def worker(seed: int) -> None:
        for i in range(400):
            v = {"a": F((seed * 7 + i) % 15, 10), "b": F((seed + i) % 40), "c": F(i % 5)}
            if durable.evaluate(p, v) != reference.evaluate(p, v):
                errors.append(f"thread {seed} item {i}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_values_are_sent_as_integers_on_a_fixed_grid():
    # Strings compare as text ("9" >= 15 passes) and floats print as 1e-05 (error 204):
    # only integers reach the engine, rounded down and up so comparisons stay exact.
    p = build([("a", ">", F(0)), ("b", ">=", F(9)), ("c", "<", F(1, 10**6))])
    fact = durable.fact_for(p, {"a": F(1, 10**9), "b": F(15), "c": F(1, 10**7)})
    assert all(type(v) is int for v in fact.values())
    assert fact["s0_lo"] == 0 and fact["s0_hi"] == 1 and fact["s0_g"] == 0
    assert durable.evaluate(p, {"a": F(1, 10**9), "b": F(15), "c": F(1, 10**7)}) == \
        {"c0": "pass", "c1": "pass", "c2": "pass"}


def test_thresholds_off_the_grid_are_refused_at_compile_time():
    with pytest.raises(durable.EngineError):
        durable.compile_program(build([("a", ">=", F(1, 3))]))


def test_each_program_is_compiled_once_and_never_reregistered():
    p = build([("zz_unique", ">=", F(123456, 1000))])
    before = durable.compiled_count()
    durable.evaluate(p, {"zz_unique": F(200)})
    durable.evaluate(p, {"zz_unique": F(100)})
    assert durable.compiled_count() == before + 1


def test_compiled_rules_never_carry_caller_strings():
    # Keys and ids of several MiB overflow the engine's stack: every key reaching it is
    # generated ("s0_lo", "c0_p0"), whatever the indicator names are.
    p = build([("x" * 5000, ">=", F(1))])
    compiled = durable.compile_program(p)
    assert all(len(k) < 16 for k in compiled)
    assert "x" * 50 not in repr(compiled)


def test_contradictory_or_missing_outcomes_raise(monkeypatch):
    p = build([("a", ">=", F(1))])
    durable.evaluate(p, {"a": F(2)})
    # A swallowed action exception or a lost firing must surface as EngineError, not a verdict.
    monkeypatch.setattr(durable._QuietHost, "get_action", lambda self, name: (lambda c: None))
    p2 = build([("fresh_slot_for_guard_test", ">=", F(1))])
    with pytest.raises(durable.EngineError):
        durable.evaluate(p2, {"fresh_slot_for_guard_test": F(2)})
