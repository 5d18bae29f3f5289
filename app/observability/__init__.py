"""Metrics, structured logs and the request context that ties them together."""
