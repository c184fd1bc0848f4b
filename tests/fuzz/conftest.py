"""Hypothesis profiles for the fuzzer (FUZZ_PROFILE, FUZZ_EXAMPLES) and its seed data fixture.

`ci` (the default, used by `make test`) is derandomized: every run tries the same examples, so a
red build is reproducible and a green one stays green until the code changes. `deep` (`make fuzz`)
draws fresh examples each run and keeps failures in .hypothesis/ to replay them first next time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.testing import TestClient

from tests.conftest import empty_tables
from tests.fuzz.world import World

EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
COMMON = settings(
    deadline=None,  # a slow machine or a busy database must never fail the suite
    print_blob=True,  # a failure prints the @reproduce_failure line that replays it
    suppress_health_check=[
        HealthCheck.too_slow,  # each example is a real request on a real database
        HealthCheck.filter_too_much,  # valid strings come from the schema's patterns, filtered by length
        HealthCheck.data_too_large,  # deeply nested JSON is one of the inputs
        HealthCheck.large_base_example,  # even the simplest request carries a token and a JSON body
    ],
)
settings.register_profile("ci", COMMON, max_examples=int(EXAMPLES or 25), derandomize=True, database=None)
settings.register_profile("deep", COMMON, max_examples=int(EXAMPLES or 500), derandomize=False)
settings.load_profile(os.environ.get("FUZZ_PROFILE", "ci"))


@pytest.fixture(scope="module")
def world(session_client: TestClient[Litestar], app: Litestar) -> Iterator[World]:
    """One set of seeds per module and database, renewed only when a request used them up: seeding
    takes nine requests, and seeding for every test took a quarter of the fuzzer's time."""
    session_client.headers.clear()
    yield World(session_client, app.state.settings.secret_key)
    session_client.blocking_portal.call(empty_tables, app.state.database.engine)
