"""What every answer must be: a documented 2xx of the operation that handled it, or a 4xx with the error body."""

from __future__ import annotations

import json

from service.app import create_app
from tests.fuzz.asgi import RawRequest, RawResponse
from tests.fuzz.operations import operations_of
from tests.support import make_settings

# Read from an app that is never started: the routes and the schema are all the fuzzer needs.
OPERATIONS = operations_of(create_app(make_settings("sqlite+aiosqlite:///:memory:")))
BY_ROUTE = {(operation.method, operation.path): operation for operation in OPERATIONS}


def answer_problem(request: RawRequest, response: RawResponse) -> str | None:
    """What is wrong with the answer to `request`, or None."""
    if response.error is not None:
        return f"the app raised instead of answering:\n{response.error}"
    summary = f"{response.status} {response.header(b'content-type')!r} {response.body[:300]!r}"
    handled_by = BY_ROUTE.get((request.method, response.path_template or ""))
    documented = handled_by.documented if handled_by else frozenset()
    if 200 <= response.status < 300:
        if documented and response.status not in documented:
            return f"{handled_by} does not document {response.status}: {summary}"
        return None
    if response.status >= 500 and response.status in documented:
        return None  # /health/ready's 503: the database did not answer in time, whatever was sent
    if not 400 <= response.status < 500:
        return f"not a documented 2xx nor a 4xx: {summary}"
    content_type = response.header(b"content-type") or b""
    if content_type.startswith(b"text/html") and handled_by is not None and not documented:
        return None  # the docs UI (outside the schema) answers an unknown page with an HTML 404 by design
    if not content_type.startswith(b"application/json"):
        return f"a 4xx without the JSON error body: {summary}"
    if request.method == "HEAD":
        return None  # no body to check
    return None if is_error_body(response.body) else f"not the error body: {summary}"


def is_error_body(body: bytes) -> bool:
    """{"errors": {"<field>": ["<message>", ...]}}"""
    try:
        document = json.loads(body)
    except ValueError:
        return False
    if not isinstance(document, dict) or set(document) != {"errors"}:
        return False
    errors = document["errors"]
    return (
        isinstance(errors, dict)
        and bool(errors)
        and all(isinstance(m, list) and m and all(isinstance(t, str) for t in m) for m in errors.values())
    )
