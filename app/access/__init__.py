"""Access control used by both interfaces (``app.api`` and ``app.web``): API keys and roles
(``auth``), read scope by jurisdiction (``scope``), write scope (``scope_writes``) and the
request dependencies (``deps``: database session, rule engine)."""
