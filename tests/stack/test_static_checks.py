"""The static checks of `make stack-check`, run by the test suite too: each must pass.

Each check runs the real tool (docker-compose, hadolint, nginx, actionlint); see deploy/checks.py.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from deploy.checks import (
    CHECKS,
    COMPOSE_VARIANTS,
    CheckResult,
    compose_binary,
    compose_problems,
    monitoring_problems,
    resolved_compose,
)
from deploy.nginx import (
    NGINX_DIR,
    ROOT,
    TEMPLATE_DIR,
    TEMPLATE_VARIABLE,
    NginxConfigError,
    native_nginx_values,
    render_template,
)
from service.settings import Settings
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_deployment_check_passes(check: Callable[[], CheckResult]) -> None:
    result = check()
    if result.skipped:
        skip_or_fail(result.output)
    assert result.ok, f"{result.name}:\n{result.output}"


(MARIADB,) = (variant for variant in COMPOSE_VARIANTS if variant.database == "mariadb")
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.override.yml", "docker-compose.mariadb.yml")


@pytest.fixture(scope="module")
def binary() -> str:
    found = compose_binary()
    if found is None:
        skip_or_fail("docker-compose is not installed (Debian/Ubuntu: apt-get install docker-compose)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def resolved(binary: str) -> dict[str, dict[str, Any]]:
    """Each variant as compose resolves it from the repository's files."""
    with ThreadPoolExecutor(len(COMPOSE_VARIANTS)) as pool:
        configs = pool.map(lambda variant: resolved_compose(binary, variant), COMPOSE_VARIANTS)
        return {variant.name: config for variant, config in zip(COMPOSE_VARIANTS, configs, strict=True)}


def test_the_mariadb_variant_points_the_app_at_mariadb_and_leaves_postgresql_out(
    resolved: dict[str, dict[str, Any]],
) -> None:
    services = resolved[MARIADB.name]["services"]
    assert "db" not in services, "the MariaDB variant must not start PostgreSQL too"
    for name in ("migrate", "app", "load-seed"):
        assert services[name]["environment"]["DATABASE_URL"] == _mariadb_url(), name
    assert services["mariadb"]["image"] == "mariadb:10.11"
    assert services["mariadb"]["healthcheck"]["test"] == ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"]
    assert "--character-set-server=utf8mb4" in services["mariadb"]["command"]
    # Compose v2 adds keys of its own (required, restart) to each dependency.
    assert set(services["migrate"]["depends_on"]) == {"mariadb"}
    assert services["migrate"]["depends_on"]["mariadb"]["condition"] == "service_healthy"
    default = resolved[COMPOSE_VARIANTS[0].name]["services"]
    assert "mariadb" not in default, "plain `docker compose up` must stay on PostgreSQL"
    assert default["app"]["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://conduit:")


def _break(config: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    broken = copy.deepcopy(config)
    change(broken["services"])
    return broken


def _mariadb_url(driver: str = "mysql+asyncmy", password: str = "compose-config-check", host: str = "mariadb") -> str:
    return f"{driver}://conduit:{password}@{host}:3306/conduit"


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "DATABASE_URL names another service": (
        lambda s: s["app"]["environment"].update(DATABASE_URL=_mariadb_url(host="db")),
        "app: DATABASE_URL's host is 'db', not the mariadb service's",
    ),
    "DATABASE_URL with PostgreSQL's driver": (
        lambda s: s["migrate"]["environment"].update(DATABASE_URL=_mariadb_url(driver="postgresql+asyncpg")),
        "migrate: DATABASE_URL's drivername is 'postgresql+asyncpg'",
    ),
    "DATABASE_URL with another password": (
        lambda s: s["load-seed"]["environment"].update(DATABASE_URL=_mariadb_url(password="other")),
        "load-seed: DATABASE_URL's password is '***'",
    ),
    "migrate does not wait for the health check": (
        lambda s: s["migrate"].pop("depends_on"),
        "migrate does not wait for mariadb to be healthy",
    ),
    "migrate waits for a start only": (
        lambda s: s["migrate"]["depends_on"]["mariadb"].update(condition="service_started"),
        "migrate does not wait for mariadb to be healthy",
    ),
    "no health check": (lambda s: s["mariadb"].pop("healthcheck"), "mariadb has no healthcheck"),
    "no volume": (lambda s: s["mariadb"].pop("volumes"), "mariadb keeps its data in no named volume"),
    "PostgreSQL still runs": (
        lambda s: s.update(db={"image": "postgres:17-bookworm"}),
        "another database server runs beside mariadb: db",
    ),
    "database service missing": (lambda s: s.pop("mariadb"), "service mariadb missing"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_compose_check_refuses_a_broken_mariadb_variant(resolved: dict[str, dict[str, Any]], breakage: str) -> None:
    config = resolved[MARIADB.name]
    assert compose_problems(config, MARIADB) == []
    change, expected = BREAKAGES[breakage]
    problems = compose_problems(_break(config, change), MARIADB)
    assert any(problem.startswith(expected) for problem in problems), problems


MONITORING_BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "Prometheus starts with plain `up`": (
        lambda s: s["prometheus"].pop("profiles"),
        "prometheus is not in the monitoring profile alone",
    ),
    "rules not mounted": (
        lambda s: s["prometheus"].update(volumes=[v for v in s["prometheus"]["volumes"] if "rules" not in str(v)]),
        "prometheus does not mount deploy/prometheus/rules at /etc/prometheus/rules",
    ),
    "dashboards not mounted": (
        lambda s: s["grafana"].update(volumes=[v for v in s["grafana"]["volumes"] if "dashboards" not in str(v)]),
        "grafana does not mount deploy/grafana/dashboards at /var/lib/grafana/dashboards",
    ),
    "Grafana published to every interface": (
        lambda s: s["grafana"].update(ports=["3000:3000/tcp"]),
        "grafana publishes a port beyond 127.0.0.1",
    ),
    "the app listens on another port": (
        lambda s: s["app"].update(expose=["9000"]),
        "prometheus scrapes ['app']:8000, not the app service on {9000}",
    ),
}


@pytest.mark.parametrize("breakage", MONITORING_BREAKAGES)
def test_the_compose_check_refuses_a_broken_monitoring_profile(
    resolved: dict[str, dict[str, Any]], breakage: str
) -> None:
    config = resolved[COMPOSE_VARIANTS[0].name]
    assert monitoring_problems(config) == []
    assert {"prometheus", "grafana"} <= set(config["services"])
    change, expected = MONITORING_BREAKAGES[breakage]
    problems = monitoring_problems(_break(config, change))
    assert any(problem.startswith(expected) for problem in problems), problems


@pytest.fixture
def compose_copy(tmp_path: Path) -> Path:
    for name in COMPOSE_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_compose_check_reads_the_mariadb_file_from_disk(binary: str, compose_copy: Path) -> None:
    """The real tool on a broken copy: a service name typo in DATABASE_URL is found."""
    mariadb_file = compose_copy / "docker-compose.mariadb.yml"
    text = mariadb_file.read_text()
    assert "@mariadb:3306/" in text
    mariadb_file.write_text(text.replace("@mariadb:3306/", "@maria:3306/"))
    problems = compose_problems(resolved_compose(binary, MARIADB, compose_copy), MARIADB)
    for service in ("migrate", "app", "load-seed"):
        assert f"{service}: DATABASE_URL's host is 'maria', not the mariadb service's" in problems


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
