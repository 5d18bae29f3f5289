"""Bundled legal data (YAML, one folder per jurisdiction); no code lives here."""

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent
