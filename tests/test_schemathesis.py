"""Schemathesis against the app's own OpenAPI schema, in process (issue 6, item 4):
every operation, at least 200 generated requests each; no 5xx, every response documented
and conforming to its schema."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "200"))


from app.main import app  # noqa: E402

# From the app object rather than ``from_asgi``: fetching /openapi.json would start the app's
# lifespan before the ``client`` fixture has pointed it at the test database.
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api(case, client) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance, status_code_conformance])
