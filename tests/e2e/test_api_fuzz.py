"""Property-based fuzzing of the whole OpenAPI (REST + national gateway) with schemathesis.

Bounded examples per operation so the suite stays fast; `docs/reliability.md` records longer runs.
Target: no 5xx; every 4xx carries a stable code and a Chinese message; the gateway always answers
with an envelope (infcode -1 and err_msg on failure).
"""

from __future__ import annotations

import re

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from yidi.bootstrap import Container
from yidi.services.demo import load_reference_world

CHINESE = re.compile(r"[\u4e00-\u9fff]")


FUZZ_EXAMPLES_PER_OPERATION = 15


def _check(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    if case.path.startswith("/fsi/"):
        body = response.json()
        assert response.status_code == 200
        assert body["infcode"] in (0, -1)
        if body["infcode"] == -1:
            assert body["err_msg"] and CHINESE.search(body["err_msg"])
        return
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", error["code"])
        assert CHINESE.search(error["message"])


def test_no_operation_answers_5xx_and_every_error_explains_itself_in_chinese(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=FUZZ_EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            _check(case)

        fuzz()
        fuzzed += 1
    assert fuzzed >= 3  # health, sign-in, the gateway at least
