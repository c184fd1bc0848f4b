"""Every poison in every slot of every operation (tests/fuzz/sweep.py) gets a 4xx or a documented 2xx."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.fuzz.asgi import send_raw
from tests.fuzz.checks import OPERATIONS, answer_problem
from tests.fuzz.operations import Operation
from tests.fuzz.sweep import cases
from tests.fuzz.world import World


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_poison_in_every_slot_is_refused_or_harmless(
    session_client: TestClient[Litestar], app: Litestar, world: World, operation: Operation
) -> None:
    problems = []
    for case in cases(operation):
        request = case.build(world.seeds)
        response = session_client.blocking_portal.call(send_raw, app, request)
        if problem := answer_problem(request, response):
            problems.append(f"{case}: {problem}\n    request: {repr(request)[:600]}")
        if app.state.database.engine.sync_engine.pool.checkedout():
            problems.append(f"{case}: the request kept its pooled connection")
        world.refresh_after(request.method, response.status)
    assert not problems, "\n".join(problems)
