"""What every layer may use: configuration, the clock, errors, exact-number helpers, GC control,
the safe YAML loader and the input-shape limits.  Imports nothing of ``app`` outside ``app.core``."""
