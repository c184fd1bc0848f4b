"""Lab 6: replay what a user did before they reported an error, against a running service.

    .venv/bin/python labs/06-trace-a-request/reproduce.py [--url http://127.0.0.1:8000]

It signs up a fresh user, then writes two articles. Each answer's X-Request-ID is printed, as a
user would copy it from their browser's network tab. The check (check_lab6.py) replays the same
steps in-process through `replay`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (path, JSON body, headers) -> (status, body, X-Request-ID)
Post = Callable[[str, dict[str, Any], dict[str, str]], tuple[int, dict[str, Any], str]]


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    status: int
    request_id: str


def replay(post: Post) -> list[Step]:
    name = f"reader_{secrets.token_hex(3)}"
    account = {"user": {"username": name, "email": f"{name}@example.com", "password": "reader-password"}}
    status, body, request_id = post("/api/users", account, {})
    steps = [Step("sign up", status, request_id)]
    if status != 201:
        return steps
    headers = {"Authorization": f"Token {body['user']['token']}"}
    tagged = {"article": {"title": "Tagged", "description": "d", "body": "b", "tagList": ["lab"]}}
    untagged = {"article": {"title": "Untagged", "description": "d", "body": "b"}}
    for what, article in (("write an article with a tag", tagged), ("write an article without tags", untagged)):
        status, _, request_id = post("/api/articles", article, headers)
        steps.append(Step(what, status, request_id))
    return steps


def http_post(base_url: str) -> Post:
    def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the developer's own local service
            base_url.rstrip("/") + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read()), response.headers.get("X-Request-ID", "")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), error.headers.get("X-Request-ID", "")

    return post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    for step in replay(http_post(parser.parse_args().url)):
        verdict = "ok" if step.status < 400 else "FAILED"
        print(f"{step.what:32} -> {step.status} {verdict:6} X-Request-ID: {step.request_id}")


if __name__ == "__main__":
    main()
