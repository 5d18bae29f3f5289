"""Log output: one JSON object per line (production) or plain text (local use).

``STANDARD_LAND_LOG_FORMAT=json|text`` chooses; unset, it is json when
``STANDARD_LAND_ENV=production`` and text otherwise.  ``standard-land serve
--log-format`` sets the variable for its workers; ``uvicorn app.main:app`` gets the
same set-up because app.main calls ``configure()`` on import.

Request lines carry method, route template, status, duration and ids, never a body:
request bodies hold tax amounts, which are confidential.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from app.core.config import settings

FORMAT_ENV = "STANDARD_LAND_LOG_FORMAT"
REQUEST_LOGGER = "standard_land.request"

# Attributes every LogRecord has; anything else on a record came in through ``extra``
# (uvicorn's color_message duplicates msg with terminal escapes).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}


def log_format() -> str:
    fmt = settings().log_format.lower()
    if fmt in ("json", "text"):
        return fmt
    return "json" if settings().env.lower() == "production" else "text"


class JsonFormatter(logging.Formatter):
    """ts, level, logger, msg, then the record's ``extra`` fields."""

    _second: int = -1
    _prefix: str = ""

    def _ts(self, created: float) -> str:
        # The date-time part changes once a second; formatting it per line costs more than
        # the rest of the timestamp.
        sec = int(created)
        if sec != self._second:
            self._prefix = dt.datetime.fromtimestamp(sec, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = sec
        return f"{self._prefix}.{int((created - sec) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self._ts(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,       # which worker: several share one stream
        }
        for k, v in record.__dict__.items():
            if k not in _STANDARD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """Human-readable, with the request fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_"))
        line = super().format(record)
        return f"{line} {extra}" if extra else line


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


_HANDLER_MARK = "_standard_land_handler"


def configure(fmt: str | None = None) -> str:
    """Install the handler on the root logger (once) and route uvicorn's own logs through it.

    uvicorn's access log is silenced: the request middleware writes one richer line per
    request.  Other handlers (a test runner's) are left in place.  Returns the format used."""
    fmt = fmt or log_format()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = _StderrHandler()
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
    return fmt
