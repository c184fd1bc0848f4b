"""No request, however malformed, gets a 5xx: every operation is fuzzed with raw bytes on both databases.

Each example is one raw ASGI request (tests/fuzz/asgi.py) with every part valid but one, or all,
made hostile (tests/fuzz/strategies.py). Every answer must be a documented 2xx of the operation
that handled it, or a 4xx with the spec's error body (tests/fuzz/checks.py); the request must give
its connection back.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.fuzz.asgi import send_raw
from tests.fuzz.checks import OPERATIONS, answer_problem
from tests.fuzz.operations import Operation
from tests.fuzz.world import World


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@given(data=st.data())
def test_no_request_gets_a_server_error(
    session_client: TestClient[Litestar], app: Litestar, world: World, operation: Operation, data: st.DataObject
) -> None:
    request = data.draw(world.requests_for(operation), label="request")
    response = session_client.blocking_portal.call(send_raw, app, request)
    problem = answer_problem(request, response)
    assert problem is None, problem
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0, "the request kept its pooled connection"
    world.refresh_after(request.method, response.status)
