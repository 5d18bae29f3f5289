"""Garbage-collection control for the batch paths (moved from ``app.store.tax``): the tax batch,
proposal batches, scoring runs and park pages pause cyclic GC while they allocate."""

from __future__ import annotations

import contextlib
import gc
import threading


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection while a batch is parsed and written.  The batch allocates
    hundreds of thousands of acyclic objects, each allocation burst triggering collections
    that rescan all of them: that doubles the time of a 100,000-record batch.  Nested and
    concurrent batches share one pause; collection resumes when the last one ends."""
    global _GC_PAUSES
    with _GC_LOCK:
        if _GC_PAUSES == 0:
            _GC_STATE["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC_PAUSES += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_STATE["was_enabled"]:
                gc.enable()


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0
_GC_STATE = {"was_enabled": True}
