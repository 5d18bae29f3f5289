"""HTTP API under /v1: thin routers — parse, call app.checks / app.store, return."""
