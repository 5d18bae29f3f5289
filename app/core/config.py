"""The service's configuration: every environment variable it reads, with its default and meaning,
in one object (``Settings``, pydantic-settings).  README "Configuration" lists the same fields
(tests/core/test_config.py keeps the two equal).

``settings()`` reads the environment on each call and re-validates only when one of these
variables changed since the last call (a comparison of their raw values, about a microsecond),
so a test or an operator changing the environment at run time is seen at once, as when each
module read ``os.environ`` itself.  A few values are still taken once at import, as before:
the database pool sizes, the key-cache lifetime, the check thread count and the registry
refresh interval.

``PROMETHEUS_MULTIPROC_DIR`` is listed for the record; prometheus_client reads it itself (and
``app.observability.metrics`` with it).  ``standard-land serve`` sets it and the log format for
its worker processes.
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/standard-land.db"
MiB = 1024 * 1024


class Settings(BaseSettings):
    """One field per environment variable (the alias is the variable's exact name)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True, env_prefix="")

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL",
                              description="SQLAlchemy URL of the database: `sqlite:///path` or `postgresql://user:pw@host/db` "
                                          "(`postgres://` is accepted)")
    db_pool_size: int = Field(10, ge=1, validation_alias="DB_POOL_SIZE",
                              description="connections kept open per worker process (PostgreSQL); keep workers × "
                                          "(size + overflow) under the server's max_connections")
    db_pool_overflow: int = Field(30, ge=0, validation_alias="DB_POOL_OVERFLOW",
                                  description="further connections a worker may open at peaks (PostgreSQL)")
    db_connect_timeout: int = Field(5, ge=1, validation_alias="DB_CONNECT_TIMEOUT",
                                    description="seconds to wait for a PostgreSQL connection")
    db_busy_timeout: float = Field(30, gt=0, validation_alias="DB_BUSY_TIMEOUT",
                                   description="seconds a SQLite writer waits for another's write lock before a 503")
    engine: str = Field("durable", validation_alias="STANDARD_LAND_ENGINE",
                        description="rule engine: `durable` (durable-rules) or `reference` (the plain-Python evaluator)")
    env: str = Field("", validation_alias="STANDARD_LAND_ENV",
                     description="`production`: the service refuses to start without API keys (no open "
                                 "mode) and logs default to JSON")
    log_format: str = Field("", validation_alias="STANDARD_LAND_LOG_FORMAT",
                            description="`json` or `text`; empty: JSON in production, text otherwise")
    timezone: str = Field("Asia/Shanghai", validation_alias="STANDARD_LAND_TIMEZONE",
                          description="IANA zone of the officers' calendar: what \"today\" is (default `as_of`, "
                                      "years) and how times are shown; stored times stay UTC")
    key_cache_seconds: float = Field(5, ge=0, validation_alias="STANDARD_LAND_KEY_CACHE_SECONDS",
                                     description="seconds an API key lookup is cached per worker (a revoked key "
                                                 "works at most this long)")
    check_threads: int = Field(4, ge=1, validation_alias="STANDARD_LAND_CHECK_THREADS",
                               description="single proposal checks run at once per worker (the others wait on the event "
                                           "loop, not in threads)")
    registry_refresh_seconds: float = Field(0.5, ge=0, validation_alias="STANDARD_LAND_REGISTRY_REFRESH_SECONDS",
                                            description="how often a worker looks for rule sets published by another "
                                                        "worker")
    origins: str = Field("", validation_alias="STANDARD_LAND_ORIGINS",
                         description="comma-separated origins (`https://host[:port]`) the pages accept forms from, "
                                     "besides their own host (behind a proxy that rewrites Host)")
    tax_min_contributors: int = Field(3, ge=1, validation_alias="STANDARD_LAND_TAX_MIN_CONTRIBUTORS",
                                      description="a tax aggregate over fewer enterprises is withheld from keys "
                                                  "outside the tax authorities' region")
    tax_max_share_percent: Decimal = Field(Decimal(85), gt=0, le=100, validation_alias="STANDARD_LAND_TAX_MAX_SHARE_PERCENT",
                                           description="a tax aggregate where one enterprise pays more than this "
                                                       "percentage is withheld likewise")
    # Workbook uploads (app.formats.workbook.Limits): the defaults let a 100,000-row tax workbook through.
    xlsx_file_bytes: int = Field(50 * MiB, ge=1, validation_alias="STANDARD_LAND_XLSX_FILE_BYTES",
                                 description="largest .xlsx upload, in bytes (413 above)")
    xlsx_parts: int = Field(1000, ge=1, validation_alias="STANDARD_LAND_XLSX_PARTS",
                            description="files in the workbook's archive (a workbook from Excel has 10–30)")
    xlsx_part_bytes: int = Field(256 * MiB, ge=1, validation_alias="STANDARD_LAND_XLSX_PART_BYTES",
                                 description="one archive part, inflated, in bytes")
    xlsx_total_bytes: int = Field(512 * MiB, ge=1, validation_alias="STANDARD_LAND_XLSX_TOTAL_BYTES",
                                  description="all archive parts, inflated, in bytes")
    xlsx_ratio: int = Field(100, ge=1, validation_alias="STANDARD_LAND_XLSX_RATIO",
                            description="inflated ÷ compressed size of one part (a sheet is about 9:1) …")
    xlsx_ratio_grace_bytes: int = Field(1 * MiB, ge=0, validation_alias="STANDARD_LAND_XLSX_RATIO_GRACE_BYTES",
                                        description="… checked for parts larger than this many bytes")
    xlsx_shared_strings: int = Field(500_000, ge=1, validation_alias="STANDARD_LAND_XLSX_SHARED_STRINGS",
                                     description="entries of the shared-strings table")
    xlsx_columns: int = Field(256, ge=1, validation_alias="STANDARD_LAND_XLSX_COLUMNS",
                              description="cells further right in a row are refused")
    xlsx_memory_bytes: int = Field(256 * MiB, ge=1, validation_alias="STANDARD_LAND_XLSX_MEMORY_BYTES",
                                   description="address space a workbook-reading worker process may add, in bytes")
    xlsx_seconds: float = Field(60.0, gt=0, validation_alias="STANDARD_LAND_XLSX_SECONDS",
                                description="a workbook-reading worker still running after this many seconds is killed")
    xlsx_parses: int = Field(2, ge=1, validation_alias="STANDARD_LAND_XLSX_PARSES",
                             description="workbook-reading workers at once per server process; further reads wait")
    prometheus_multiproc_dir: str | None = Field(None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
                                                 description="directory for the metrics of several worker processes "
                                                             "(set by `standard-land serve --workers N`)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("engine", "env", "log_format", mode="before")
    @classmethod
    def _trim(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v


def variables() -> dict[str, str]:
    """Environment variable → field name, in declaration order."""
    return {f.validation_alias: name for name, f in Settings.model_fields.items()}  # type: ignore[misc]


_NAMES = tuple(variables())
# The raw environment (bytes on POSIX): comparing 16 raw values costs ~1 µs, os.environ.get ~20 µs.
_RAW = getattr(os.environ, "_data", None)
_KEYS = tuple(os.environ.encodekey(n) for n in _NAMES) if _RAW is not None and hasattr(os.environ, "encodekey") else None
_LOCK = threading.Lock()
_CACHE: tuple[tuple, Settings] | None = None


def _snapshot() -> tuple:
    if _KEYS is not None:
        get = _RAW.get  # type: ignore[union-attr]
        return tuple(get(k) for k in _KEYS)
    return tuple(os.environ.get(n) for n in _NAMES)


def settings() -> Settings:
    """The configuration as the environment has it now (validated again only after a change).
    A bad value raises RuntimeError naming the variable."""
    global _CACHE
    key = _snapshot()
    cached = _CACHE
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        value = Settings()
    except ValidationError as e:
        names = {f.validation_alias: n for n, f in Settings.model_fields.items()}
        why = "; ".join(f"{err['loc'][0]}={os.environ.get(str(err['loc'][0]))!r}: {err['msg']}"
                        for err in e.errors() if err["loc"] and err["loc"][0] in names)
        raise RuntimeError(f"configuration: {why or e}") from None
    with _LOCK:
        _CACHE = (key, value)
    return value


def _default_text(value: object) -> str:
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    return f"`{value}`"


def markdown_table() -> str:
    """README "Configuration": one row per variable (tests/core/test_config.py compares the two)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in Settings.model_fields.values():
        rows.append(f"| `{f.validation_alias}` | {_default_text(f.default)} | {f.description} |")
    return "\n".join(rows)
