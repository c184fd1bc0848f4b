"""The API docs page in a real browser: headless Chromium renders Swagger UI at /schema, a
"Try it out" call succeeds, and nothing is fetched from beyond loopback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from qa.conftest import skip_or_fail

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or (parts.hostname or "") in LOOPBACK


def test_swagger_ui_renders_and_try_it_out_works(base_url: str) -> None:
    if not is_local(base_url):
        pytest.skip("the browser check only drives a loopback target (BASE_URL is remote)")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed in this environment")
        return

    outside: list[str] = []

    def guard(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with tempfile.TemporaryDirectory(prefix="qa-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, service_workers="block"
        )
        try:
            context.route("**/*", guard)
            page = context.new_page()
            page.goto(f"{base_url}/schema", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=20_000)
            operations = page.locator(".opblock-summary-path").all_inner_texts()
            for path in ("/api/articles", "/api/users/login", "/api/tags", "/api/articles/{slug}"):
                assert any(text.replace("\u200b", "").strip() == path for text in operations), (path, operations)

            tags = page.locator(".opblock-get", has=page.locator(".opblock-summary-path", has_text="/api/tags")).first
            tags.locator(".opblock-summary").click()
            tags.get_by_role("button", name="Try it out").click()
            with page.expect_response(lambda r: r.url.endswith("/api/tags")) as answer:
                tags.get_by_role("button", name="Execute").click()
            assert answer.value.status == 200
            page.wait_for_selector(".live-responses-table tbody .response-col_status", timeout=10_000)
            shown = tags.locator(".live-responses-table tbody .response-col_status").first.inner_text()
            assert shown.strip().startswith("200"), shown
        finally:
            context.close()
    assert outside == [], f"the docs page tried to reach beyond loopback: {outside}"
