"""NGINX for the native stack: the repository's nginx/ files plus the rendered runtime templates.

Compose mounts nginx/ into the official image, whose entrypoint renders templates/**/*.template
with envsubst. Here the same files are laid out in a run directory (symlinks) and the templates are
rendered with loopback values, so the native stack and `nginx -t` run the very files compose mounts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "nginx"
TEMPLATE_DIR = NGINX_DIR / "templates"
TEMPLATE_VARIABLE = re.compile(r"\$\{(NGINX_[A-Z_]+)\}")


class NginxConfigError(RuntimeError):
    """nginx is missing, or a template variable has no value."""


def native_nginx_values(listen: str, app_ports: Sequence[int], access_log: Path, auth_rate: str) -> dict[str, str]:
    """The NGINX_* values compose sets for the image, with loopback processes instead of Docker DNS."""
    servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in app_ports)
    return {
        "NGINX_LISTEN": listen,
        "NGINX_RESOLVER": "# no resolver: the native upstream lists fixed loopback addresses",
        "NGINX_UPSTREAM_SERVERS": servers,
        "NGINX_ACCESS_LOG": str(access_log),
        "NGINX_AUTH_RATE": auth_rate,
    }


def render_template(text: str, values: Mapping[str, str]) -> str:
    """envsubst as the nginx image runs it: `${NAME}` is replaced, every other `$` is left alone."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise NginxConfigError(f"nginx template variable {name} has no value")
        return values[name]

    return TEMPLATE_VARIABLE.sub(substitute, text)


# The server block and its includes (nginx.conf includes them by this folder name).
SITE_DIR = NGINX_DIR / "conduit"


def prepare_nginx(conf_dir: Path, values: Mapping[str, str]) -> Path:
    """Lay out an nginx prefix in conf_dir: links to the repository's files, rendered templates."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    links = {
        "nginx.conf": NGINX_DIR / "nginx.conf",
        SITE_DIR.name: SITE_DIR,
        "mime.types": Path("/etc/nginx/mime.types"),
    }
    for name, target in links.items():
        link = conf_dir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    for template in sorted(TEMPLATE_DIR.rglob("*.template")):
        output = conf_dir / template.relative_to(TEMPLATE_DIR).with_suffix("")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render_template(template.read_text(), values))
    return conf_dir / "nginx.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def nginx_command(conf: Path, *extra: str, daemon: bool = True) -> list[str]:
    binary = nginx_binary()
    if binary is None:
        raise NginxConfigError("nginx is not installed (Debian/Ubuntu: apt-get install nginx)")
    run_dir = conf.parent
    # pid and error log go to the run directory (nginx.conf leaves both unset); nginx takes one -g.
    globals_ = f"pid {run_dir / 'nginx.pid'}; error_log {run_dir / 'error.log'} warn;"
    globals_ += "" if daemon else " daemon off;"
    return [binary, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "error.log"), "-g", globals_, *extra]


def nginx_config_test(conf: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the rendered configuration (output in .stdout, errors included)."""
    command = nginx_command(conf, "-t")
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603 - fixed argv
