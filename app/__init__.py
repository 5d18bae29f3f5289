"""standard-land: the rules service (API, checks, engine adapter, storage, CLI)."""

__version__ = "0.1.0"
