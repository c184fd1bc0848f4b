"""Prometheus for the native stack: compose's deploy/prometheus/prometheus.yml with loopback targets.

Compose's Prometheus finds the replicas through Docker's DNS and evaluates every 15 s. `make
stack` runs Debian's `prometheus` binary on the same file, rendered with the replicas' fixed
loopback addresses, the repository's rule files and a 1 s interval (a person or a test sees a
change within seconds), so both load the very rules `promtool` checks.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
CONFIG_FILE = PROMETHEUS_DIR / "prometheus.yml"
APP_JOB = "conduit"  # the rules select the replicas' `up` by this job name
NATIVE_INTERVAL = "1s"


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def promtool_binary() -> str | None:
    return shutil.which("promtool")


def native_prometheus_config(app_ports: Sequence[int], prometheus_port: int) -> dict[str, Any]:
    """Compose's configuration with the replicas on loopback instead of Docker's DNS."""
    config: dict[str, Any] = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    config["global"].update(scrape_interval=NATIVE_INTERVAL, evaluation_interval=NATIVE_INTERVAL)
    config["rule_files"] = [str(RULES_DIR / "*.yml")]
    targets = {
        APP_JOB: [f"127.0.0.1:{port}" for port in app_ports],
        "prometheus": [f"127.0.0.1:{prometheus_port}"],
    }
    for job in config["scrape_configs"]:
        job.pop("dns_sd_configs", None)
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    return config


def prepare_prometheus(conf_dir: Path, app_ports: Sequence[int], prometheus_port: int) -> Path:
    """Write the rendered configuration into conf_dir; returns its path."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    config = conf_dir / "prometheus.yml"
    rendered = yaml.safe_dump(native_prometheus_config(app_ports, prometheus_port), sort_keys=False)
    config.write_text(f"# Rendered by deploy/monitoring.py from {CONFIG_FILE.relative_to(ROOT)}\n{rendered}")
    return config


def prometheus_command(config: Path, data_dir: Path, port: int) -> list[str]:
    binary = prometheus_binary()
    if binary is None:
        raise FileNotFoundError("prometheus is not installed (Debian/Ubuntu: apt-get install prometheus)")
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        "--storage.tsdb.retention.time=1d",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """`promtool check rules ...`, `promtool test rules ...`, `promtool check config ...`."""
    binary = promtool_binary()
    if binary is None:
        raise FileNotFoundError("promtool is not installed (Debian/Ubuntu: apt-get install prometheus)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
