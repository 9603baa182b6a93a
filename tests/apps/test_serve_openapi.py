"""`mlpkit serve` against its own OpenAPI schema: schemathesis generates requests for every
operation of /openapi.json, valid and invalid, and sends them to the real server."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier

from .serving import Server

EXAMPLES = 40  # per operation: about 200 requests, 20-60 s in all on 2 cores


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    model = ImageClassifier.build(["non-cat", "cat"], 8, (3,), seed=0)
    # a limit of about 1 KB: the generated requests get 200, 400, 413, 415 and 422 alike
    server = Server(mlpkit.save(model, folder / "tiny.npz"), "--max-upload-mb", 0.001,
                    log_dir=folder)
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="module")
def served_schema(server):
    # a request over the limit is refused with 413 before its content is read, whatever it holds
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {
        "expected-statuses": [400, 404, 405, 413, 415, 422]}}})
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented(case, server):
    """No 5xx; each status, content type, header and body as the schema says; invalid requests
    refused. Not checked: that every valid request is accepted, since random bytes sent as an
    image get 400 by design (test_serve.py sends bad images one by one)."""
    case.call_and_validate(base_url=server.url, excluded_checks=[positive_data_acceptance])
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200, server.log()
