"""app/engine/comparisons.py: collect comparisons, run them once, read the answers — the
pattern of the performance audit, the clause check, the proposal check and the parks."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.engine import REFERENCE, Engine, by_name
from app.engine.comparisons import Comparisons, Compiled

F = Fraction
ENGINES = [REFERENCE, by_name("durable")]


def counting(engine: Engine) -> tuple[Engine, list]:
    calls: list = []

    def evaluate(program, values):
        calls.append(program)
        return engine.evaluate(program, values)

    return Engine(engine.name, engine.version, evaluate), calls


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_answers_per_key_in_one_evaluation(engine):
    e, calls = counting(engine)
    c = Comparisons()
    keys = [c.add("late", F(3), "<="),                  # 3 <= 0: no
            c.add("on_time", F(0), "<="),               # 0 <= 0: yes
            c.add("short", F(-1, 3), ">=", F(-1, 2)),   # -1/3 >= -1/2: yes
            c.add("unknown", None, ">=")]               # missing: None, never zero
    assert keys == ["late", "on_time", "short", "unknown"]
    assert len(c) == 4
    assert c.run(e) == {"late": False, "on_time": True, "short": True, "unknown": None}
    assert len(calls) == 1


def test_nothing_added_runs_no_engine():
    e, calls = counting(REFERENCE)
    assert Comparisons().run(e) == {}
    assert calls == []


def test_a_key_added_twice_is_refused():
    c = Comparisons()
    c.add("k", F(1), ">")
    with pytest.raises(ValueError, match="added twice"):
        c.add("k", F(-1), ">")


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_compiled_checks_share_a_slot_and_answer_by_their_own_key(engine):
    compiled = Compiled([(0, "plot_ratio", ">=", F(1)), (3, "plot_ratio", "<=", F(2)), (5, "green", "between", (F(1), F(2)))])
    assert compiled.program.slots == ("plot_ratio", "green")
    assert compiled.run(engine, {"plot_ratio": F(5, 2), "green": F(3, 2)}) == {0: True, 3: False, 5: True}
    assert compiled.run(engine, {"plot_ratio": F(3, 2)}) == {0: True, 3: True, 5: None}
