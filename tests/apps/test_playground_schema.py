"""`mlpkit playground` against its own OpenAPI schema, with schemathesis (a property-based
fuzzer): every operation answers as documented (statuses, bodies, content types), never a
5xx, and the server still answers after. The check that every schema-valid request is accepted
cannot hold where content is checked (a schema-valid CSV file of random bytes, settings that do
not fit together): it is left out, and those cases are tested in test_playground.py."""

from __future__ import annotations

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from .test_playground import Playground  # noqa: E402


@pytest.fixture(scope="module")
def fuzzed_playground(tmp_path_factory):
    # short idle timeout: the runs the fuzzer starts and never reads stop within a second
    server = Playground("--max-runs", 2, "--idle-timeout", 1, "--no-access-log",
                        log_dir=tmp_path_factory.mktemp("playground-schema"))
    yield server
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200, server.log()
    assert "Traceback" not in server.log(), server.log()
    server.stop()


@pytest.fixture(scope="module")
def playground_schema(fuzzed_playground):
    return schemathesis.openapi.from_url(f"{fuzzed_playground.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("playground_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, fuzzed_playground):
    case.call_and_validate(excluded_checks=[positive_data_acceptance], timeout=60)
