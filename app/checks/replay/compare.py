"""What replays share: the difference of a stored and a recomputed answer."""

from __future__ import annotations

from typing import Any


def differences(a: Any, b: Any, path: str = "") -> list[dict]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += differences(x, y, f"{path}.{i}")
        return out
    return [] if a == b else [{"path": path, "stored": a, "replayed": b}]
