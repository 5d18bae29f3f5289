"""The one loader for YAML that a user gives us (rule sets: the upload page, ``standard-land rules
publish/validate``; the bundled rule sets go through it too).

``yaml.safe_load`` is safe against code execution but not against size: aliases let 370 bytes
expand to gigabytes once the shared nodes are walked (the "billion laughs"; the JSON round trip
and the model walk every alias), and the composer recurses once per nesting level, so a deeply
nested document raises ``RecursionError``.  Rule sets need neither, so ``load`` refuses every
alias (``*name``, which includes ``<<: *name`` merges) and nesting deeper than the API's JSON
(``app.core.input_limits.MAX_DEPTH``), each with the line it is on.  The bundled ``rules/`` files use no
aliases (tests/web/test_web_hardening.py loads every one of them through this function).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent

from app.core.input_limits import MAX_DEPTH


class YamlRefused(ValueError):
    """YAML we do not load: ``msg`` (Chinese, naming the line; English in brackets) and ``line``
    (1-based, None if unknown)."""

    def __init__(self, msg: str, line: int | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line

    def __str__(self) -> str:
        return self.msg


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer counts nesting and refuses aliases (before it recurses)."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            raise YamlRefused(f"第 {line} 行：不允许使用 YAML 别名 *{event.anchor}（规则集中请直接写出内容）"
                              f"(YAML aliases are not accepted in rule sets)", line)
        nests = isinstance(event, CollectionStartEvent)
        if nests:
            self._depth += 1
            if self._depth > self.max_depth:
                raise YamlRefused(f"第 {line} 行：YAML 嵌套超过 {self.max_depth} 层 "
                                  f"(nested deeper than {self.max_depth} levels)", line)
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1


def _refusal(e: yaml.YAMLError) -> YamlRefused:
    mark = getattr(e, "problem_mark", None)
    where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
    return YamlRefused(f"YAML 格式错误{where}：{getattr(e, 'problem', None) or e}", mark.line + 1 if mark else None)


def load(text: str) -> Any:
    """The YAML document in ``text`` as Python data (safe types only); ``YamlRefused`` for YAML
    that does not parse, uses an alias or nests deeper than ``MAX_DEPTH``."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as e:
        raise _refusal(e) from None
    finally:
        loader.dispose()


def compose(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (for line numbers), or None where ``load`` would refuse it."""
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, YamlRefused):
        return None
    finally:
        loader.dispose()
