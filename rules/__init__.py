"""Bundled rule sets (YAML data, one folder per jurisdiction); no code lives here."""
