"""durable_rules behind a narrow, guarded interface (docs/engine.md).

Guards, each for a measured crash or wrong answer:
- only compiler-generated keys ("s0_lo", "c3:pass") and integers reach the engine:
  values are exact rationals scaled by 10**6 and rounded *down* (``_lo``) and *up*
  (``_hi``); with thresholds on that grid, ``v >= t`` ⇔ ``lo >= T``, ``v > t`` ⇔
  ``hi > T``, ``v <= t`` ⇔ ``hi <= T``, ``v < t`` ⇔ ``lo < T`` — exact, no float text
  like ``1e-05`` ever reaches the parser;
- only failures and absences fire actions (each fired action costs ~10–50 µs of
  Python glue, the matching itself ~8 µs): a present value with no failure passes.
  The property tests hold this equal to the reference evaluator, which tests
  every value explicitly;
- assert_fact only (post() consumes events), with a fresh server-generated sid,
  a sentinel rule so every session runs an action, and delete_state afterwards;
- one process-wide lock around every engine call (it is not thread-safe), and a
  Host subclass with no dispatcher threads;
- each program is registered once under a content-addressed name and never unloaded;
- an exception inside an action is swallowed by the engine into the state: re-raised.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Mapping
from fractions import Fraction

import orjson
from durable import engine as _durable

from app.engine.program import ABSENT, FAIL, PASS, Program

NAME = "durable_rules"
SCALE = 10**6
SENTINEL = "sentinel"
_T = {"t": "proposal"}      # discriminator in every rule: $nex must never match engine state


class EngineError(RuntimeError):
    pass


_SINKS: dict[str, list[str]] = {}
_LOCK = threading.Lock()
_COMPILED: dict[str, str] = {}


class _QuietHost(_durable.Host):
    def _run(self) -> None:          # no dispatcher threads (use-after-free under concurrency)
        pass

    def get_action(self, action_name: str):
        # Exactly one parameter: durable treats a two-parameter action as asynchronous.
        def action(c):
            _SINKS[c.s.sid].append(action_name)
        return action


class _OrJSON:
    """durable's Python glue turns every fact, and per fired action the session state, into
    JSON and parses the engine's answers; with the standard library's json that was a third
    of the adapter's time.  Only compiler-generated keys, integers and server-generated ids
    pass through it, which orjson writes as equivalent (compact) JSON; anything it refuses
    (an integer beyond 64 bits, a non-string key) takes the standard library."""

    @staticmethod
    def dumps(obj, ensure_ascii: bool = True, **kw) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return json.dumps(obj, ensure_ascii=ensure_ascii, **kw)

    loads = staticmethod(orjson.loads)


_durable.json = _OrJSON
_HOST = _QuietHost()
# Session ids: one live session at a time (the lock), so a process-wide counter is unique
# where it matters and costs nothing; uuid4 read the kernel's random source on every check.
_SIDS = itertools.count(1)


def _scaled(t: Fraction) -> int:
    s = t * SCALE
    if s.denominator != 1:
        raise EngineError(f"threshold {t} is not on the 10^-6 grid")
    return int(s)


def _cond(*parts: dict) -> dict:
    return {"all": [{"m": {"$and": [_T, *parts]}}]}


def compile_program(program: Program) -> dict:
    """One rule per way a check can fail, one for an absent value, and the sentinel."""
    rules: dict[str, dict] = {SENTINEL: {"all": [{"m": _T}], "run": SENTINEL}}
    for c in program.checks:
        lo, hi, grid = f"s{c.slot}_lo", f"s{c.slot}_hi", f"s{c.slot}_g"
        t = c.threshold
        if c.op == ">=":        # v >= t  ⇔  lo >= T
            fails = [[{"$lt": {lo: _scaled(t)}}]]
        elif c.op == ">":       # v > t   ⇔  hi > T
            fails = [[{"$lte": {hi: _scaled(t)}}]]
        elif c.op == "<=":      # v <= t  ⇔  hi <= T
            fails = [[{"$gt": {hi: _scaled(t)}}]]
        elif c.op == "<":       # v < t   ⇔  lo < T
            fails = [[{"$gte": {lo: _scaled(t)}}]]
        elif c.op == "between":
            fails = [[{"$lt": {lo: _scaled(t[0])}}], [{"$gt": {hi: _scaled(t[1])}}]]
        elif c.op == "in":      # a member only if on the grid (lo == hi) and equal to one
            fails = [[{grid: 0}], [{grid: 1}, *({"$neq": {lo: _scaled(m)}} for m in t)]]
        elif c.op == "is_true":
            fails = [[{"$neq": {lo: SCALE}}]]
        else:
            raise EngineError(f"unknown operator {c.op!r}")
        for n, conds in enumerate(fails):
            rules[f"{c.key}_f{n}"] = {**_cond({"$ex": {lo: 1}}, *conds), "run": f"{c.key}:{FAIL}"}
        rules[f"{c.key}_a"] = {**_cond({"$nex": {lo: 1}}), "run": f"{c.key}:{ABSENT}"}
    return rules


def _ensure(program: Program) -> str:
    d = program.digest
    name = _COMPILED.get(d)
    if name is None:
        name = f"sl_{d[:24]}"
        # register_rulesets mutates its argument: hand it a copy.
        _HOST.register_rulesets({name: copy.deepcopy(compile_program(program))})
        _COMPILED[d] = name
    return name


def fact_for(program: Program, values: Mapping[str, Fraction | None]) -> dict[str, int]:
    fact: dict[str, int] = {}
    for i, indicator in enumerate(program.slots):
        v = values.get(indicator)
        if v is None:
            continue
        n, d = v.numerator * SCALE, v.denominator
        lo, hi = n // d, -(-n // d)        # floor and ceiling of v × 10**6, in integers
        fact[f"s{i}_lo"], fact[f"s{i}_hi"], fact[f"s{i}_g"] = lo, hi, int(lo == hi)
    return fact


def evaluate(program: Program, values: Mapping[str, Fraction | None]) -> dict[str, str]:
    fact = fact_for(program, values)
    with _LOCK:
        name = _ensure(program)
        sid = f"s{next(_SIDS):x}"
        sink = _SINKS[sid] = []
        try:
            state = _HOST.assert_fact(name, {**fact, "sid": sid, **_T})
        except _durable.MessageNotHandledException as e:      # cannot happen with the sentinel
            raise EngineError(f"fact matched no rule: {e}") from None
        finally:
            _SINKS.pop(sid, None)
            if sink:        # an action ran, so the session is initialised and safe to delete
                _HOST.get_ruleset(name).delete_state(sid)
    if isinstance(state, dict) and state.get("exception"):
        raise EngineError(str(state["exception"]))
    if SENTINEL not in sink:
        raise EngineError("sentinel rule did not fire")
    fired: dict[str, str] = {}
    for entry in sink:
        if entry == SENTINEL:
            continue
        key, status = entry.split(":")
        if fired.get(key, status) != status:
            raise EngineError(f"contradictory outcomes for {key}: {fired[key]} and {status}")
        fired[key] = status
    return {c.key: fired.get(c.key, PASS) for c in program.checks}


def compiled_count() -> int:
    return len(_COMPILED)
