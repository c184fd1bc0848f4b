"""The static checks of `make stack-check`, run by the test suite too: each must pass.

Each check runs the real tool (docker-compose, hadolint, nginx, actionlint); see deploy/checks.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.checks import CHECKS, CheckResult
from deploy.nginx import (
    NGINX_DIR,
    TEMPLATE_DIR,
    TEMPLATE_VARIABLE,
    NginxConfigError,
    native_nginx_values,
    render_template,
)
from service.settings import Settings
from tests.stack.conftest import skip_or_fail

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_deployment_check_passes(check: Callable[[], CheckResult]) -> None:
    result = check()
    if result.skipped:
        skip_or_fail(result.output)
    assert result.ok, f"{result.name}:\n{result.output}"


def test_templates_render_every_variable_and_leave_nginx_variables_alone() -> None:
    values = native_nginx_values("127.0.0.1:1", (2, 3), Path("access.log"), "10r/s")
    rendered = render_template((TEMPLATE_DIR / "runtime" / "upstream.conf.template").read_text(), values)
    assert "${" not in rendered
    assert "server 127.0.0.1:2 max_fails=1 fail_timeout=10s; server 127.0.0.1:3" in rendered
    assert "$binary_remote_addr" in rendered, "nginx's own variables must survive the rendering"
    with pytest.raises(NginxConfigError, match="NGINX_UNKNOWN"):
        render_template("listen ${NGINX_UNKNOWN};", values)


def test_compose_sets_every_template_variable() -> None:
    compose = (TEMPLATE_DIR.parent.parent / "docker-compose.yml").read_text()
    templates = "".join(p.read_text() for p in TEMPLATE_DIR.rglob("*.template"))
    used = set(TEMPLATE_VARIABLE.findall(templates))
    assert used == set(native_nginx_values("x", (1,), Path("x"), "x")), "native values and templates differ"
    for name in used:
        assert f"      {name}:" in compose, f"docker-compose.yml does not set {name} for the nginx image"
    # The image's envsubst also replaces bare $NAME for any variable set in the container (PATH,
    # HOSTNAME, ...); deploy/nginx.py only knows ${NGINX_*}. Upper-case names are kept to those.
    assert set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", templates)) == used


def test_body_limits_agree_between_nginx_compose_and_the_app() -> None:
    server = (TEMPLATE_DIR.parent / "conduit" / "server.conf").read_text()
    compose = (TEMPLATE_DIR.parent.parent / "docker-compose.yml").read_text()
    (nginx_limit,) = re.findall(r"^\s*client_max_body_size (\d+)m;", server, re.MULTILINE)
    (compose_limit,) = re.findall(r'MAX_BODY_BYTES: "(\d+)"', compose)
    assert int(nginx_limit) * 1_048_576 == int(compose_limit) == Settings().max_body_bytes


# Every status nginx itself can answer in this configuration (494: its code for headers too large).
NGINX_ERRORS = {400, 404, 405, 413, 414, 429, 494, 500, 501, 502, 503, 504, 505}
ERROR_PAGE = re.compile(r"^ *error_page ([\d ]+?) (?:=(\d+) )?(\S+);", re.MULTILINE)
JSON_RETURN = re.compile(r"""return (\d+) '\{"errors":\{"body":\["[^"]+"\]\}\}\\n';""")


def test_every_error_nginx_writes_has_a_json_page() -> None:
    """`nginx -t` accepts an error_page whose location is missing (the redirect would then reach the
    app through `location /`), and a 500 cannot be provoked from outside: both are checked here."""
    server = (NGINX_DIR / "conduit" / "server.conf").read_text()
    covered: set[int] = set()
    for codes, overwrite, target in ERROR_PAGE.findall(server):
        statuses = {int(code) for code in codes.split()}
        covered |= statuses
        block = re.search(rf"\n    location (?:= )?{re.escape(target)} {{\n(.*?)\n    }}", server, re.DOTALL)
        assert block, f"error_page {codes} goes to {target}, which no location defines"
        assert "include conduit/error-headers.conf;" in block.group(1), target
        assert target.startswith("@") or "internal;" in block.group(1), f"{target} must be internal"
        returned = JSON_RETURN.search(block.group(1))
        assert returned, f"{target} does not return the API's JSON error shape"
        expected = int(overwrite) if overwrite else statuses.pop()
        assert int(returned.group(1)) == expected, f"{target} answers {returned.group(1)}, not {expected}"
    assert covered == NGINX_ERRORS
