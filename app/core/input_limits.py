"""Input-shape limits shared by the API's middleware (``app.api.limits``), the pages' JSON fields
and the YAML loader (``app.core.safe_yaml``): nesting depth, digit runs, duplicate keys.  Byte scans
that run before any parser (moved from ``app.api.limits``)."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
MAX_DIGITS = 4300         # sys.get_int_max_str_digits(): longer integers do not parse


# ---------------------------------------------------------------- cheap JSON scans

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(i for i in range(256) if i not in b'[]{}"')


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True if the JSON text nests arrays/objects more than ``limit`` deep.

    Byte operations only (about 1 ms per MiB): the parser is not run on a body that could make
    it recurse.  Escapes go first (``\\\\`` then ``\\"``), so every remaining quote opens or
    closes a string; dropping two adjacent quotes keeps the inside/outside state of everything
    after them, so empty strings vanish cheaply and only strings that hold brackets are cut out
    by splitting.  Each round of removing ``[]`` strips one level; whatever survives ``limit``
    rounds is deeper than ``limit`` (or an unbalanced run of openers, which is refused too).
    """
    if body.count(b"[") + body.count(b"{") <= limit:     # most single requests: nothing to scan
        return False
    # Each replace only when needed: ASCII-only JSON is full of \\uXXXX escapes, which need neither.
    if b"\\\\" in body:
        body = body.replace(b"\\\\", b"")
    if b'\\"' in body:
        body = body.replace(b'\\"', b"")
    s = body.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in s:
        s = b"".join(s.split(b'"')[::2])
    for _ in range(limit):
        n = len(s)
        s = s.replace(b"[]", b"")
        if not s or len(s) == n:
            break
    return b"[]" in s or b"[" * (limit + 1) in s


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(dup)
    return out


def duplicate_key(text: str) -> str | None:
    """The first key given twice in one object, or None (also None for text that is not JSON:
    FastAPI reports that itself)."""
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except DuplicateKey as e:
        return str(e)
    except (ValueError, RecursionError):
        return None
    return None


_DIGITS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_TOO_MANY_DIGITS = b"0" * (MAX_DIGITS + 1)


def too_many_digits(body: bytes) -> bool:
    """A run of more digits than Python's int parser takes (it raises a ValueError that FastAPI
    answers with 400); about 2 ms per MiB."""
    return _TOO_MANY_DIGITS in body.translate(_DIGITS)
