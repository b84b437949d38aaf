"""Schemathesis over the app's own OpenAPI schema: generated requests (valid and invalid) to every
operation find no 5xx, no undocumented status or content type, and no response that breaks the
schema. Bounded and derandomized, so the run is short and repeatable."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from maas.app import create_app
from tests.maas.conftest import City, settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# The schema does not depend on the graph: read it from an app without one at import time,
# and send every generated request to an app serving the real small city.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings()))


@pytest.fixture(scope="module")
def city_app(city: City) -> Any:
    return create_app(settings(), graph=city.graph)


@schema.parametrize()
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, city_app: Any) -> None:
    response = case.call_and_validate(app=city_app, checks=CHECKS)
    if response.status_code >= 400:
        assert response.headers["content-type"][0] == "application/problem+json"
