"""The OpenAPI document stays true: it is valid OpenAPI 3, it names every route under
/api/v1 and no other, and schemathesis calls every operation through the WSGI app with a
PED coordinator's token (every plan readable) and examples it generates from the document:
never a 500, and every response (status, content type, body) as the document says."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi import checks

from tests.support.review_world import PED, World, world
from web.api.openapi import document

__all__ = ["world"]
pytestmark = pytest.mark.slow


def test_the_document_is_valid_and_names_every_endpoint(world: World) -> None:
    served = world.portal.client().get("/api/v1/openapi.json").json
    validate(served)
    documented = {
        (method.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", path))
        for path, item in served["paths"].items()
        for method in item
    }
    routed = {
        (method, re.sub(r"<(?:int:)?(\w+)>", r"<\1>", rule.rule))
        for rule in world.portal.flask.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == routed
    assert served == document("http://localhost", world.core.config.owner)


def test_schemathesis_finds_no_500_and_no_response_off_the_document(world: World) -> None:
    from aip_forms.services import tokens

    _, secret = tokens.create_token(PED, "schemathesis", tokens.SCOPES, uow=world.core.uow,
                                    clock=world.portal.clock)  # fmt: skip
    auth = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.portal.flask)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
        def call(case: schemathesis.Case) -> None:
            plan = (case.path_parameters or {}).get("plan_id")
            if plan is not None and plan % 2:  # half the cases on a real plan
                case.path_parameters["plan_id"] = world.district_plan
            if (case.query or {}).get("format", "pdf") == "pdf" and "document" in case.path:
                case.query = {**(case.query or {}), "format": "docx"}  # LibreOffice: too slow
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.path, response.text[:300])
            # A schema-valid request may still be refused: a section a district plan does not
            # have, a plan that does not exist (both documented as 400 and 404).
            case.validate_response(
                response, headers=auth, excluded_checks=[checks.positive_data_acceptance]
            )
            seen.setdefault(case.path, set()).add(response.status_code)

        call()
    assert 200 in seen["/plans"], seen
    assert 200 in seen["/plans/{plan_id}"] and 200 in seen["/plans/{plan_id}/document"]
