"""The Kubernetes manifests (deploy/k8s/), checked offline: each overlay rendered by `kubectl kustomize`,
validated against the schemas of KUBERNETES_VERSION in strict mode (kubernetes-validate), and compared
with what the app, the image, compose and nginx/ say (probes, ports, image tag, limits, drain, the
Ingress annotations).

deploy/checks.py runs `check_kubernetes` with the other static checks (`make stack-check`, part of
`make test`); tests/k8s/ runs the same functions and shows each comparison catches a change.

Custom resources (CloudNativePG's `Cluster`, the Prometheus Operator's `ServiceMonitor`) have no schema
in kubernetes-validate: they are not schema-validated here, only checked for the fields the other
manifests rely on (`custom_resource_problems`).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from deploy.nginx import ROOT, SITE_DIR
from service.ops.health import READINESS_TIMEOUT_SECONDS
from service.settings import Settings, parse_environment

K8S_DIR = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# The Kubernetes release whose schemas the manifests must satisfy (kubectl here is 1.32).
KUBERNETES_VERSION = "1.32.0"
CUSTOM_RESOURCES = {("postgresql.cnpg.io/v1", "Cluster"), ("monitoring.coreos.com/v1", "ServiceMonitor")}
# What every production rendering must hold: (kind, name).
PRODUCTION_RESOURCES = {
    ("Deployment", "conduit"),
    ("Service", "conduit"),
    ("HorizontalPodAutoscaler", "conduit"),
    ("PodDisruptionBudget", "conduit"),
    ("NetworkPolicy", "conduit"),
    ("Ingress", "conduit"),
    ("Ingress", "conduit-sign-in"),
    ("Job", "conduit-migrate"),
}
APP_IMAGE, LOADTEST_IMAGE = "conduit-app", "conduit-loadtest"
APP_PORT = 8000  # the Dockerfile's EXPOSE and the serve command's --port
READY_PATH, LIVE_PATH = "/health/ready", "/health/live"
SIGN_IN_PATHS = {"/api/users", "/api/users/login"}
GRACE_MARGIN_SECONDS = 5
ANNOTATION = "nginx.ingress.kubernetes.io/"
# Secrets the manifests may reference (created by the operator, or by CloudNativePG); none is rendered.
REFERENCED_SECRETS = {"conduit-secrets", "conduit-db-app"}

Resource = dict[str, Any]


def kubectl_binary() -> str | None:
    return shutil.which("kubectl")


def render(overlay: str, kubectl: str, k8s_dir: Path = K8S_DIR) -> list[Resource]:
    """The overlay as `kubectl kustomize` renders it; ValueError with kubectl's message if it cannot.
    The same list is returned to every caller: copy it before changing it."""
    return _render(overlay, kubectl, k8s_dir)


@functools.cache  # kubectl takes a moment; the checks and the tests ask for the same renderings
def _render(overlay: str, kubectl: str, k8s_dir: Path) -> list[Resource]:
    # argv from a fixed tool and a path inside the repository
    result = subprocess.run(  # noqa: S603
        [kubectl, "kustomize", str(k8s_dir / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise ValueError(result.stderr.strip())
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def schema_problems(resources: Iterable[Resource], version: str = KUBERNETES_VERSION) -> list[str]:
    """Every resource against its schema of `version`, strictly (an unknown field is an error);
    custom resources are skipped (their schemas belong to their operators)."""
    import kubernetes_validate  # 100 MB of schemas: imported only when a check runs

    problems = []
    for resource in resources:
        if (resource.get("apiVersion"), resource.get("kind")) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{_name(resource)}: {error.message} at {'/'.join(map(str, error.path))}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            problems.append(f"{_name(resource)}: no schema in Kubernetes {version}: {error}")
    return problems


def _name(resource: Resource) -> str:
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


def _find(resources: Iterable[Resource], kind: str, name: str | None = None) -> list[Resource]:
    return [r for r in resources if r.get("kind") == kind and (name is None or r["metadata"]["name"] == name)]


# ---- What nginx/, compose and the project say --------------------------------------------------


def nginx_directives() -> dict[str, str]:
    """The single-valued directives of nginx/conduit/server.conf and proxy.conf (the first of each)."""
    directives: dict[str, str] = {}
    for name in ("server.conf", "proxy.conf"):
        for key, value in re.findall(r"^\s*([a-z_]+) ([^;{]+);", (SITE_DIR / name).read_text(), re.M):
            directives.setdefault(key, value.strip())
    return directives


def _seconds(value: str) -> str:
    match = re.fullmatch(r"(\d+)s?", value)
    if not match:
        raise ValueError(f"not a time in seconds: {value!r}")
    return match.group(1)


def expected_ingress_annotations() -> dict[str, str]:
    """nginx/'s limits as ingress-nginx annotations: what every Ingress must carry."""
    nginx = nginx_directives()
    buffers_number, buffer_size = nginx["proxy_buffers"].split()
    if buffer_size != nginx["proxy_buffer_size"]:  # ingress-nginx's proxy-buffer-size sets both
        raise ValueError(f"proxy_buffers' size {buffer_size} differs from proxy_buffer_size: no annotation says it")
    return {
        ANNOTATION + "proxy-body-size": nginx["client_max_body_size"],
        ANNOTATION + "client-body-buffer-size": nginx["client_body_buffer_size"],
        ANNOTATION + "proxy-connect-timeout": _seconds(nginx["proxy_connect_timeout"]),
        ANNOTATION + "proxy-send-timeout": _seconds(nginx["proxy_send_timeout"]),
        ANNOTATION + "proxy-read-timeout": _seconds(nginx["proxy_read_timeout"]),
        ANNOTATION + "proxy-next-upstream": nginx["proxy_next_upstream"],
        ANNOTATION + "proxy-next-upstream-tries": nginx["proxy_next_upstream_tries"],
        ANNOTATION + "proxy-next-upstream-timeout": _seconds(nginx["proxy_next_upstream_timeout"]),
        ANNOTATION + "proxy-buffer-size": nginx["proxy_buffer_size"],
        ANNOTATION + "proxy-buffers-number": buffers_number,
        ANNOTATION + "proxy-max-temp-file-size": nginx["proxy_max_temp_file_size"],
    }


def expected_sign_in_limit() -> dict[str, str]:
    """server.conf's `limit_req ... burst=N` at compose's default NGINX_AUTH_RATE, as ingress-nginx
    says it: requests per second, and the burst as a multiple of them."""
    server = (SITE_DIR / "server.conf").read_text()
    bursts = set(re.findall(r"limit_req zone=conduit_auth burst=(\d+) nodelay;", server))
    (rate,) = re.findall(r"NGINX_AUTH_RATE:-(\d+)r/s", (ROOT / "docker-compose.yml").read_text())
    (burst,) = bursts
    if int(burst) % int(rate):
        raise ValueError(f"burst {burst} is not a multiple of {rate}r/s: ingress-nginx cannot say it")
    return {ANNOTATION + "limit-rps": rate, ANNOTATION + "limit-burst-multiplier": str(int(burst) // int(rate))}


def compose_stop_grace_seconds() -> int:
    (grace,) = re.findall(r"^    stop_grace_period: (\d+)s$", (ROOT / "docker-compose.yml").read_text(), re.M)
    return int(grace)


def dockerfile_command() -> list[str]:
    """The runtime image's CMD (the last CMD of the Dockerfile), which the Deployment runs as it is."""
    commands = re.findall(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    command: list[str] = json.loads(commands[-1])
    return command


def project_version() -> str:
    version: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return version


# ---- The comparisons ---------------------------------------------------------------------------


def _pod_spec(resource: Resource) -> Resource:
    spec: Resource = resource["spec"]["template"]["spec"]
    return spec


def _containers(resource: Resource) -> list[Resource]:
    spec = _pod_spec(resource)
    return [*spec.get("initContainers", []), *spec["containers"]]


def _image_name_and_tag(image: str) -> tuple[str, str]:
    """("conduit-app", "0.1.0") from "registry:5000/team/conduit-app:0.1.0".
    No tag gives ""."""
    name, _, tag = image.rsplit("/", 1)[-1].partition(":")
    return name, tag


def app_problems(resources: list[Resource], overlay: str) -> list[str]:
    """The API's Deployment, Service, HPA, PDB and configuration against the app and the image."""
    problems: list[str] = []
    deployments = _find(resources, "Deployment", "conduit")
    if not deployments:
        return ["no Deployment conduit"]
    deployment = deployments[0]
    pod = _pod_spec(deployment)
    configs = _find(resources, "ConfigMap")
    (config,) = [c for c in configs if c["metadata"]["name"].startswith("conduit-config")]
    environment = {**config["data"], "SECRET_KEY": "k" * 48}
    try:
        settings = parse_environment(Settings, environment).validate()
    except ValueError as error:
        return [f"ConfigMap {config['metadata']['name']}: {error}"]
    if not settings.is_production:
        problems.append("the ConfigMap does not set ENVIRONMENT=production")
    body_limit = nginx_directives()["client_max_body_size"]
    if f"{settings.max_body_bytes // 1_048_576}m" != body_limit or settings.max_body_bytes % 1_048_576:
        problems.append(f"MAX_BODY_BYTES {settings.max_body_bytes} is not nginx/'s client_max_body_size {body_limit}")

    (app,) = [c for c in pod["containers"] if c["name"] == "conduit"]
    if app.get("command") != dockerfile_command():
        problems.append(f"the app container's command is not the image's CMD {dockerfile_command()}")
    ports = {p.get("name"): p["containerPort"] for p in app.get("ports", [])}
    if ports.get("http") != APP_PORT or app["command"][app["command"].index("--port") + 1] != str(APP_PORT):
        problems.append(f"the app container does not serve on port {APP_PORT} named http")
    for probe, path in (("readinessProbe", READY_PATH), ("livenessProbe", LIVE_PATH)):
        get = app.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ("http", APP_PORT):
            problems.append(f"{probe} is not GET {path} on the app port")
    if app.get("readinessProbe", {}).get("timeoutSeconds", 1) <= READINESS_TIMEOUT_SECONDS:
        problems.append(
            f"readinessProbe timeoutSeconds must exceed the readiness check's {READINESS_TIMEOUT_SECONDS} s"
        )
    pause = app.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pause_seconds = int(pause[1]) if pause[:1] == ["sleep"] and len(pause) == 2 else 0
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if pause_seconds < 1:
        problems.append("no preStop pause (`sleep N`) before SIGTERM")
    if grace != pause_seconds + settings.shutdown_timeout_seconds + GRACE_MARGIN_SECONDS:
        problems.append(
            f"terminationGracePeriodSeconds {grace} is not the preStop pause {pause_seconds} s + "
            f"SHUTDOWN_TIMEOUT_SECONDS {settings.shutdown_timeout_seconds} s + {GRACE_MARGIN_SECONDS} s"
        )
    if grace != compose_stop_grace_seconds():
        problems.append(f"terminationGracePeriodSeconds {grace} differs from compose's stop_grace_period")

    mounts = {m["mountPath"] for m in app.get("volumeMounts", [])}
    if "/tmp" not in mounts:  # noqa: S108 - the container's own emptyDir, where the metrics files go
        problems.append("the app container has no writable /tmp (its workers' metrics files)")

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        for found in _find(resources, kind, "conduit"):
            selector = found["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                problems.append(f"{kind} conduit does not select the API pods")
    for service in _find(resources, "Service", "conduit"):
        if [p.get("targetPort") for p in service["spec"]["ports"]] != ["http"]:
            problems.append("Service conduit does not target the port named http")
    for hpa in _find(resources, "HorizontalPodAutoscaler", "conduit"):
        target = hpa["spec"]["scaleTargetRef"]
        metrics = [m.get("resource", {}).get("name") for m in hpa["spec"].get("metrics", [])]
        if (target["kind"], target["name"]) != ("Deployment", "conduit") or metrics != ["cpu"]:
            problems.append("the HPA does not scale Deployment conduit on CPU")
    if overlay == "prod":
        missing = PRODUCTION_RESOURCES - {(r["kind"], r["metadata"]["name"]) for r in resources}
        problems += [f"missing {kind} {name}" for kind, name in sorted(missing)]
    return problems


def workload_problems(resources: list[Resource]) -> list[str]:
    """Every Deployment and Job: non-root, read-only root file system, no privilege escalation,
    resources on every container."""
    problems = []
    for workload in (r for r in resources if r.get("kind") in ("Deployment", "Job")):
        problems += _pod_problems(workload)
    return problems


def _pod_problems(workload: Resource) -> list[str]:
    problems = []
    pod = _pod_spec(workload)
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{_name(workload)}: the pod may run as root (runAsNonRoot)")
    for container in _containers(workload):
        where = f"{_name(workload)} container {container['name']}"
        security = container.get("securityContext", {})
        if not security.get("readOnlyRootFilesystem") or security.get("allowPrivilegeEscalation", True):
            problems.append(f"{where}: root file system writable or privilege escalation allowed")
        resources = container.get("resources", {})
        if not {"cpu", "memory"} <= set(resources.get("requests", {})) or "memory" not in resources.get("limits", {}):
            problems.append(f"{where}: no cpu and memory requests or no memory limit")
    return problems


def image_problems(resources: list[Resource], overlay: str) -> list[str]:
    """One tag for every container of the app and load-test images; in production the project's version."""
    problems = []
    tags = set()
    workloads = [r for r in resources if r.get("kind") in ("Deployment", "Job")]
    for workload in workloads:
        for container in _containers(workload):
            name, tag = _image_name_and_tag(container["image"])
            if name not in (APP_IMAGE, LOADTEST_IMAGE):
                problems.append(f"{_name(workload)}: unexpected image {container['image']}")
            tags.add(tag)
    if len(tags) != 1 or tags & {"", "latest"}:
        problems.append(f"the images' tags are not one pinned tag: {sorted(tags)}")
    if overlay == "prod" and tags != {project_version()}:
        problems.append(f"the production image tag {sorted(tags)} is not the project's version {project_version()}")
    return problems


def ingress_problems(resources: list[Resource]) -> list[str]:
    """Every Ingress carries nginx/'s limits; sign-up and login carry its rate limit; /metrics is refused."""
    problems = []
    expected = expected_ingress_annotations()
    ingresses = _find(resources, "Ingress")
    limited_paths: set[str] = set()
    for ingress in ingresses:
        annotations: Mapping[str, str] = ingress["metadata"].get("annotations", {})
        for key, value in expected.items():
            if annotations.get(key) != value:
                problems.append(f"{_name(ingress)}: {key} is {annotations.get(key)!r}, nginx/ says {value!r}")
        if ingress["spec"].get("ingressClassName") != "nginx":
            problems.append(f"{_name(ingress)}: not for ingress-nginx (ingressClassName nginx)")
        paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
        limit = {k: v for k, v in annotations.items() if k.startswith(ANNOTATION + "limit-")}
        if limit:
            if limit != expected_sign_in_limit():
                problems.append(f"{_name(ingress)}: rate limit {limit} is not nginx/'s {expected_sign_in_limit()}")
            limited_paths |= paths
        if "/metrics" in paths and annotations.get(ANNOTATION + "denylist-source-range") != "0.0.0.0/0,::/0":
            problems.append(f"{_name(ingress)}: /metrics reachable from outside")
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                port = service["port"].get("name", service["port"].get("number"))
                if service["name"] != "conduit" or port not in ("http", APP_PORT):
                    problems.append(f"{_name(ingress)}: {path['path']} misses Service conduit's http port")
    if limited_paths != SIGN_IN_PATHS:
        problems.append(f"the sign-in rate limit covers {sorted(limited_paths)}, not {sorted(SIGN_IN_PATHS)}")
    if not any("/metrics" in {p["path"] for r in i["spec"]["rules"] for p in r["http"]["paths"]} for i in ingresses):
        problems.append("no Ingress refuses /metrics")
    return problems


def network_problems(resources: list[Resource]) -> list[str]:
    """The API pods: reached only from the ingress controller (and Prometheus, Locust's workers);
    reaching only DNS and the database; no Secret value in the rendering."""
    problems = []
    policies = _find(resources, "NetworkPolicy", "conduit")
    if not policies:
        return ["no NetworkPolicy conduit"]
    spec = policies[0]["spec"]
    if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"}:
        problems.append("NetworkPolicy conduit must restrict both ingress and egress")
    sources = [peer for rule in spec.get("ingress", []) for peer in rule.get("from", [])]
    namespaces = {
        p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") for p in sources
    }
    if not sources or namespaces != {"ingress-nginx", "monitoring"}:
        problems.append(f"the API pods accept connections from {sorted(map(str, namespaces))}")
    ports = {p["port"] for rule in spec.get("egress", []) for p in rule.get("ports", [])}
    if not spec.get("egress") or ports != {53, 5432} or any("ports" not in rule for rule in spec["egress"]):
        problems.append(f"the API pods may connect to ports {sorted(ports)}, not only DNS and PostgreSQL")
    if _find(resources, "Secret"):
        problems.append("a Secret is rendered: secrets are created in the cluster, never committed")
    for workload in (r for r in resources if r.get("kind") in ("Deployment", "Job")):
        for container in _containers(workload):
            for variable in container.get("env", []):
                secret = variable.get("valueFrom", {}).get("secretKeyRef", {}).get("name")
                if secret and secret not in REFERENCED_SECRETS:
                    problems.append(f"{_name(workload)}: {variable['name']} from an unknown Secret {secret}")
                # A value is committed, except a URL built from the database's own Secret (cloudnative-pg).
                built = "$(DB_PASSWORD)" in variable.get("value", "") and variable["name"] == "DATABASE_URL"
                if variable["name"] in ("SECRET_KEY", "DATABASE_URL") and "value" in variable and not built:
                    problems.append(f"{_name(workload)}: {variable['name']} has a committed value")
    return problems


def custom_resource_problems(resources: list[Resource]) -> list[str]:
    """What the other manifests rely on in the custom resources, which no schema here checks: the
    CloudNativePG cluster's name (its `-app` Secret, `-rw` Service and `cnpg.io/cluster` pod label), and
    the ServiceMonitor's selector and port."""
    problems = []
    for cluster in _find(resources, "Cluster"):
        name = cluster["metadata"]["name"]
        owner = cluster["spec"].get("bootstrap", {}).get("initdb", {}).get("owner")
        if not owner or cluster["spec"].get("instances", 0) < 1:
            problems.append(f"Cluster {name}: no initdb owner or no instance")
        text = yaml.safe_dump_all(r for r in resources if r.get("kind") in ("Deployment", "Job", "NetworkPolicy"))
        for needed in (f"name: {name}-app", f"@{name}-rw:5432/", f"cnpg.io/cluster: {name}"):
            if needed not in text:
                problems.append(f"Cluster {name}: nothing uses {needed!r}")
    for monitor in _find(resources, "ServiceMonitor"):
        (service,) = _find(resources, "Service", "conduit")
        selector = monitor["spec"]["selector"]["matchLabels"]
        if any(service["metadata"]["labels"].get(k) != v for k, v in selector.items()):
            problems.append("ServiceMonitor does not select Service conduit")
        if [(e.get("port"), e.get("path")) for e in monitor["spec"]["endpoints"]] != [("http", "/metrics")]:
            problems.append("ServiceMonitor does not scrape /metrics on the http port")
    return problems


def locust_problems(resources: list[Resource]) -> list[str]:
    """The locust component: applying it starts no load (the master suspended, no workers); the
    workers find the master's Service; both target the API's Service, which lets the workers in."""
    masters = _find(resources, "Job", "locust-master")
    if not masters:
        return []
    problems = []
    (workers,) = _find(resources, "Deployment", "locust-worker")
    (service,) = _find(resources, "Service", "locust-master")
    if not masters[0]["spec"].get("suspend") or workers["spec"].get("replicas") != 0:
        problems.append("applying the locust component starts a load run (master not suspended or workers > 0)")
    (master,) = _pod_spec(masters[0])["containers"]
    (worker,) = _pod_spec(workers)["containers"]
    args = worker["args"]
    if args[args.index("--master-host") + 1] != service["metadata"]["name"]:
        problems.append("the Locust workers do not look for the master's Service")
    if [p["port"] for p in service["spec"]["ports"]] != [p["containerPort"] for p in master["ports"]] or any(
        p["targetPort"] not in [q["name"] for q in master["ports"]] for p in service["spec"]["ports"]
    ):
        problems.append("the master's Service does not reach the master's port")
    for container in (master, worker):
        hosts = [v.get("value") for v in container["env"] if v["name"] == "LOAD_HOST"]
        if hosts != [f"http://conduit:{APP_PORT}"]:
            problems.append(f"Locust targets {hosts}, not Service conduit on port {APP_PORT}")
    allowed = [
        rule
        for policy in _find(resources, "NetworkPolicy")
        for rule in policy["spec"].get("ingress", [])
        if any(
            p.get("podSelector", {}).get("matchLabels") == workers["spec"]["selector"]["matchLabels"]
            for p in rule["from"]
        )
    ]
    if not allowed:
        problems.append("no NetworkPolicy lets the Locust workers reach the API pods")
    return problems


def manifest_problems(resources: list[Resource], overlay: str) -> list[str]:
    """Everything tests/k8s and `make stack-check` compare in one rendering, besides the schemas."""
    return (
        app_problems(resources, overlay)
        + workload_problems(resources)
        + image_problems(resources, overlay)
        + ingress_problems(resources)
        + network_problems(resources)
        + custom_resource_problems(resources)
        + locust_problems(resources)
    )
