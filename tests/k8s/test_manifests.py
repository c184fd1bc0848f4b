"""The Kubernetes manifests (deploy/k8s/), offline: each comparison of deploy/kubernetes.py catches a
change, and the schema validation is strict.

That every overlay renders, passes the schemas and agrees with the app is `check_kubernetes`, run by
tests/stack/test_static_checks.py with the other static checks (and by `make stack-check`). Here each
problem is put into a copy of a rendering and must be named; one is put into a copy of the files on
disk and rendered by kubectl. Without kubectl the tests skip, unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.kubernetes import (
    K8S_DIR,
    OVERLAYS,
    PRODUCTION_RESOURCES,
    Resource,
    expected_ingress_annotations,
    expected_sign_in_limit,
    kubectl_binary,
    manifest_problems,
    project_version,
    render,
    schema_problems,
)
from service.settings import Settings
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = kubectl_binary()
    if found is None:
        skip_or_fail("kubectl is not installed (`kubectl kustomize` renders the overlays)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def rendered(kubectl: str) -> dict[str, list[Resource]]:
    return {overlay: render(overlay, kubectl) for overlay in OVERLAYS}


APP = "conduit"  # the app's object names (a generated service renames it; lines keep their length)


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    (found,) = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def app_container(resources: list[Resource]) -> Resource:
    container: Resource = one(resources, "Deployment", f"{APP}")["spec"]["template"]["spec"]["containers"][0]
    return container


def config(resources: list[Resource]) -> dict[str, str]:
    (found,) = [r for r in resources if r["kind"] == "ConfigMap"]
    data: dict[str, str] = found["data"]
    return data


def pod(resources: list[Resource], kind: str = "Deployment", name: str = APP) -> Resource:
    spec: Resource = one(resources, kind, name)["spec"]["template"]["spec"]
    return spec


def ingress_annotations(resources: list[Resource], name: str) -> dict[str, str]:
    found: dict[str, str] = one(resources, "Ingress", name)["metadata"]["annotations"]
    return found


def set_every_tag(resources: list[Resource], tag: str) -> None:
    for workload in (r for r in resources if r["kind"] in ("Deployment", "Job")):
        spec = workload["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            container["image"] = container["image"].split(":")[0] + f":{tag}"


A = "nginx.ingress.kubernetes.io/"
# (overlay, change, the start of the problem it must cause)
BREAKAGES: dict[str, tuple[str, Callable[[list[Resource]], object], str]] = {
    "readiness on the liveness path": (
        "prod",
        lambda r: app_container(r)["readinessProbe"]["httpGet"].update(path="/health/live"),
        "readinessProbe is not GET /health/ready",
    ),
    "liveness on the readiness path": (
        "prod",
        lambda r: app_container(r)["livenessProbe"]["httpGet"].update(path="/health/ready"),
        "livenessProbe is not GET /health/live",
    ),
    "readiness probe shorter than the database check": (
        "prod",
        lambda r: app_container(r)["readinessProbe"].update(timeoutSeconds=2),
        "readinessProbe timeoutSeconds must exceed",
    ),
    "grace period longer than the drain": (
        "prod",
        lambda r: pod(r).update(terminationGracePeriodSeconds=60),
        "terminationGracePeriodSeconds 60 is not the preStop pause 5 s + SHUTDOWN_TIMEOUT_SECONDS 20 s",
    ),
    "drain longer than the grace period": (
        "prod",
        lambda r: config(r).update(SHUTDOWN_TIMEOUT_SECONDS="40"),
        "terminationGracePeriodSeconds 30 is not the preStop pause 5 s + SHUTDOWN_TIMEOUT_SECONDS 40 s",
    ),
    "no preStop pause": ("prod", lambda r: app_container(r).pop("lifecycle"), "no preStop pause"),
    "body limit other than nginx/'s": (
        "prod",
        lambda r: config(r).update(MAX_BODY_BYTES="2097152"),
        "MAX_BODY_BYTES 2097152 is not nginx/'s client_max_body_size 1m",
    ),
    "not production": (
        "dev",
        lambda r: config(r).update(ENVIRONMENT="development"),
        "the ConfigMap does not set ENVIRONMENT=production",
    ),
    "a setting the app refuses": ("prod", lambda r: config(r).update(LOG_LEVEL="LOUD"), f"ConfigMap {APP}-config"),
    "another serve command than the image's": (
        "prod",
        lambda r: app_container(r)["command"].__setitem__(-1, "4"),
        "the app container's command is not the image's CMD",
    ),
    "another port": (
        "prod",
        lambda r: app_container(r)["ports"][0].update(containerPort=8080),
        "the app container does not serve on port 8000",
    ),
    "no writable /tmp": (
        "prod",
        lambda r: app_container(r).pop("volumeMounts"),
        "the app container has no writable /tmp",
    ),
    "one image on latest": (
        "prod",
        lambda r: pod(r, "Job", f"{APP}-migrate")["containers"][0].update(image=f"{APP}-app:latest"),
        "the images' tags are not one pinned tag",
    ),
    "production on another tag": (
        "prod",
        lambda r: set_every_tag(r, "9.9.9"),
        "the production image tag ['9.9.9'] is not the project's version",
    ),
    "Locust on another tag than the app": (
        "dev",
        lambda r: pod(r, "Deployment", "locust-worker")["containers"][0].update(image=f"{APP}-loadtest:old"),
        "the images' tags are not one pinned tag",
    ),
    "no memory limit": (
        "prod",
        lambda r: app_container(r)["resources"].pop("limits"),
        f"Deployment/{APP} container {APP}: no cpu and memory requests or no memory limit",
    ),
    "writable root file system in the init step": (
        "prod",
        lambda r: pod(r)["initContainers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
        f"Deployment/{APP} container {APP}: root file system writable",
    ),
    "Locust worker as root": (
        "dev",
        lambda r: pod(r, "Deployment", "locust-worker")["securityContext"].pop("runAsNonRoot"),
        "Deployment/locust-worker: the pod may run as root",
    ),
    "a larger body at the edge": (
        "prod",
        lambda r: ingress_annotations(r, f"{APP}").update({A + "proxy-body-size": "10m"}),
        f"Ingress/{APP}: {A}proxy-body-size is '10m', nginx/ says '1m'",
    ),
    "a longer read timeout on sign-in": (
        "prod",
        lambda r: ingress_annotations(r, f"{APP}-sign-in").update({A + "proxy-read-timeout": "60"}),
        f"Ingress/{APP}-sign-in: {A}proxy-read-timeout is '60', nginx/ says '30'",
    ),
    "another sign-in rate": (
        "prod",
        lambda r: ingress_annotations(r, f"{APP}-sign-in").update({A + "limit-rps": "100"}),
        f"Ingress/{APP}-sign-in: rate limit",
    ),
    "the rate limit on every path": (
        "prod",
        lambda r: ingress_annotations(r, f"{APP}").update(expected_sign_in_limit()),
        "the sign-in rate limit covers ['/', '/api/users', '/api/users/login']",
    ),
    "/metrics open at the edge": (
        "prod",
        lambda r: ingress_annotations(r, f"{APP}-metrics").pop(A + "denylist-source-range"),
        f"Ingress/{APP}-metrics: /metrics reachable from outside",
    ),
    "anyone reaches the pods": (
        "prod",
        lambda r: one(r, "NetworkPolicy", f"{APP}")["spec"]["ingress"][0]["from"][0].pop("namespaceSelector"),
        "the API pods accept connections from",
    ),
    "the pods reach the internet": (
        "prod",
        lambda r: one(r, "NetworkPolicy", f"{APP}")["spec"]["egress"].append({"ports": [{"port": 443}]}),
        "the API pods may connect to ports [53, 443, 5432]",
    ),
    "a committed Secret": (
        "prod",
        lambda r: r.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{APP}-secrets"}}),
        "a Secret is rendered",
    ),
    "a committed SECRET_KEY": (
        "prod",
        lambda r: app_container(r)["env"].append({"name": "SECRET_KEY", "value": "k" * 48}),
        f"Deployment/{APP}: SECRET_KEY has a committed value",
    ),
    "HPA on memory": (
        "prod",
        lambda r: one(r, "HorizontalPodAutoscaler", f"{APP}")["spec"]["metrics"][0]["resource"].update(name="memory"),
        f"the HPA does not scale Deployment {APP} on CPU",
    ),
    "PDB on other pods": (
        "prod",
        lambda r: one(r, "PodDisruptionBudget", f"{APP}")["spec"]["selector"]["matchLabels"].update(
            {"app.kubernetes.io/component": "migrate"}
        ),
        f"PodDisruptionBudget {APP} does not select the API pods",
    ),
    "no migration Job": ("prod", lambda r: r.remove(one(r, "Job", f"{APP}-migrate")), f"missing Job {APP}-migrate"),
    "no PDB": ("prod", lambda r: r.remove(one(r, "PodDisruptionBudget", f"{APP}")), "missing PodDisruptionBudget"),
    "the database cluster renamed": (
        "dev",
        lambda r: one(r, "Cluster", f"{APP}-db")["metadata"].update(name="other-db"),
        "Cluster other-db: nothing uses 'name: other-db-app'",
    ),
    "a load run at every apply": (
        "dev",
        lambda r: one(r, "Job", "locust-master")["spec"].update(suspend=False),
        "applying the locust component starts a load run",
    ),
    "workers looking for another master": (
        "dev",
        lambda r: pod(r, "Deployment", "locust-worker")["containers"][0].update(
            args=["--worker", "--master-host", "master"]
        ),
        "the Locust workers do not look for the master's Service",
    ),
    "Locust through another host": (
        "dev",
        lambda r: pod(r, "Job", "locust-master")["containers"][0]["env"][1].update(value=f"http://{APP}:80"),
        f"Locust targets ['http://{APP}:80']",
    ),
    "Locust workers shut out": (
        "dev",
        lambda r: r.remove(one(r, "NetworkPolicy", f"{APP}-allow-locust")),
        "no NetworkPolicy lets the Locust workers reach the API pods",
    ),
    "ServiceMonitor on another path": (
        "prod",
        lambda r: one(r, "ServiceMonitor", f"{APP}")["spec"]["endpoints"][0].update(path="/metricz"),
        "ServiceMonitor does not scrape /metrics on the http port",
    ),
}


def test_every_overlay_agrees_with_the_app(rendered: dict[str, list[Resource]]) -> None:
    for overlay, resources in rendered.items():
        assert manifest_problems(resources, overlay) == [], overlay


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_change_that_disagrees_is_named(rendered: dict[str, list[Resource]], breakage: str) -> None:
    overlay, change, expected = BREAKAGES[breakage]
    broken = copy.deepcopy(rendered[overlay])
    change(broken)
    problems = manifest_problems(broken, overlay)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_production_has_every_part(rendered: dict[str, list[Resource]]) -> None:
    found = {(r["kind"], r["metadata"]["name"]) for r in rendered["prod"]}
    assert found >= PRODUCTION_RESOURCES
    kinds = {kind for kind, _ in PRODUCTION_RESOURCES}
    assert kinds == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "Job",
    }


def test_the_expectations_come_from_nginx_and_the_app() -> None:
    """What the manifests are compared with, read from nginx/, compose and pyproject.toml."""
    expected = expected_ingress_annotations()
    assert expected[A + "proxy-body-size"] == "1m"
    assert Settings().max_body_bytes == 1_048_576
    assert expected[A + "proxy-read-timeout"] == "30"
    assert expected[A + "proxy-next-upstream"] == "error timeout"
    assert expected_sign_in_limit() == {A + "limit-rps": "10", A + "limit-burst-multiplier": "2"}
    assert project_version() == "0.1.0"


def test_schema_validation_is_strict(rendered: dict[str, list[Resource]]) -> None:
    resources = copy.deepcopy(rendered["prod"])
    assert schema_problems(resources) == []
    pod(resources)["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/health/ready"}
    one(resources, "HorizontalPodAutoscaler", f"{APP}")["spec"]["minReplicas"] = "three"
    problems = schema_problems(resources)
    assert any(p.startswith(f"Deployment/{APP}:") and "httpGett" in p for p in problems), problems
    assert any(p.startswith(f"HorizontalPodAutoscaler/{APP}:") and "three" in p for p in problems), problems


def test_custom_resources_are_not_schema_checked(rendered: dict[str, list[Resource]]) -> None:
    """Said plainly: a Cluster with a misspelt field passes schema_problems (no CRD schema here)."""
    resources = copy.deepcopy(rendered["dev"])
    one(resources, "Cluster", f"{APP}-db")["spec"]["instancez"] = 3
    assert schema_problems(resources) == []


def test_a_broken_file_on_disk_is_found(kubectl: str, tmp_path: Path) -> None:
    """kubectl renders a copy of deploy/k8s whose base Deployment probes the wrong path."""
    copied = tmp_path / "k8s"
    shutil.copytree(K8S_DIR, copied)
    deployment = copied / "base" / "deployment.yaml"
    text = deployment.read_text()
    assert text.count("path: /health/ready") == 1
    deployment.write_text(text.replace("path: /health/ready", "path: /health"))
    for overlay in OVERLAYS:
        problems = manifest_problems(render(overlay, kubectl, copied), overlay)
        assert "readinessProbe is not GET /health/ready on the app port" in problems, overlay
