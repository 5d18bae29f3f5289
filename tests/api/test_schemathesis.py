"""Schemathesis against the app's own OpenAPI schema, in process (issue 6, item 4).

Every operation, with 200 generated requests each (schemathesis's fuzzing phase; its examples and
coverage phases add the schema's examples and boundary cases on top), valid and invalid: no 5xx,
every status code documented, every response body conforming to its documented schema and media
type.  ``SCHEMATHESIS_EXAMPLES`` changes the count for a quick local run; CI uses the default.

It runs last (tests/conftest.py): the contracts, parks and tax batches it stores are random.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import app

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "200"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# From the app object rather than ``from_asgi``: fetching /openapi.json would start the app's
# lifespan before the ``client`` fixture has pointed it at the test database.
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=list(HealthCheck))
def test_api(case, client) -> None:
    case.call_and_validate(checks=CHECKS)
