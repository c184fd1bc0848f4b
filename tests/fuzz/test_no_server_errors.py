"""No request, however malformed, gets a 5xx: every operation is fuzzed with raw bytes on both databases.

Each example is one raw ASGI request (tests/fuzz/asgi.py) with every part valid but one, or all,
made hostile (tests/fuzz/strategies.py). Every answer must be a documented 2xx of the operation
that handled it, or a 4xx with the spec's error body; the request must give its connection back.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from tests.conftest import make_settings
from tests.fuzz.asgi import RawRequest, RawResponse, send_raw
from tests.fuzz.operations import Operation, operations_of
from tests.fuzz.world import World

# Read from an app that is never started: the routes and the schema are all the fuzzer needs.
OPERATIONS = operations_of(create_app(make_settings("sqlite+aiosqlite:///:memory:")))
BY_ROUTE = {(operation.method, operation.path): operation for operation in OPERATIONS}


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@given(data=st.data())
def test_no_request_gets_a_server_error(
    client: TestClient[Litestar], app: Litestar, world: World, operation: Operation, data: st.DataObject
) -> None:
    request = data.draw(world.requests_for(operation), label="request")
    response = client.blocking_portal.call(send_raw, app, request)
    check_answer(request, response)
    assert app.state.engine.sync_engine.pool.checkedout() == 0, "the request kept its pooled connection"
    world.refresh_after(request.method, response.status)


def check_answer(request: RawRequest, response: RawResponse) -> None:
    assert response.error is None, f"the app raised instead of answering:\n{response.error}"
    summary = f"{response.status} {response.header(b'content-type')!r} {response.body[:500]!r}"
    assert response.status < 500, summary
    handled_by = BY_ROUTE.get((request.method, response.path_template or ""))
    if 200 <= response.status < 300:
        if handled_by is not None and handled_by.documented:
            assert response.status in handled_by.success, (
                f"{handled_by} documents {sorted(handled_by.success)}: {summary}"
            )
        return
    assert 400 <= response.status < 500, summary
    content_type = response.header(b"content-type") or b""
    if content_type.startswith(b"text/html") and handled_by is not None and not handled_by.documented:
        return  # the docs UI (outside the schema) answers an unknown page with an HTML 404 by design
    assert content_type.startswith(b"application/json"), summary
    if request.method != "HEAD":
        assert_error_body(response.body)


def assert_error_body(body: bytes) -> None:
    """{"errors": {"<field>": ["<message>", ...]}}"""
    document = json.loads(body)
    assert isinstance(document, dict) and set(document) == {"errors"}, body
    errors = document["errors"]
    assert isinstance(errors, dict) and errors, body
    for messages in errors.values():
        assert isinstance(messages, list) and messages and all(isinstance(text, str) for text in messages), body
