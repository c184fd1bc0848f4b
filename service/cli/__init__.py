"""Command line: `python -m service.cli migrate | serve | seed` (the Makefile's run, migrate and seed)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str | None = None) -> Config:
    # Imported here, not at the top: `serve` runs the worker in this process with one worker, and
    # Alembic with Mako and Pygments would stay in its memory for nothing (~14 MiB of RSS).
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """alembic upgrade head on DATABASE_URL (or the given URL)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def serve(host: str, port: int, workers: int, reload: bool) -> None:
    import uvicorn

    from service.ops.http_limits import ServerLimits, build_http_protocol
    from service.ops.metrics import prepare_multiprocess_dir

    settings = Settings.from_env()  # fail fast, before forking workers, on a bad setting
    prepare_multiprocess_dir(settings.prometheus_multiproc_dir, 1 if reload else workers)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        # httptools with NGINX-like limits on heads and slow clients, answered in the API's JSON.
        http=build_http_protocol(ServerLimits.from_settings(settings)),
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level.lower(),
        access_log=False,  # the service writes its own request log line
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,  # in-flight requests finish after SIGTERM
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply all migrations to DATABASE_URL")
    serve_parser = commands.add_parser("serve", help="serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    commands.add_parser("seed", help="load a small demo data set")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        migrate()
    elif args.command == "serve":
        serve(args.host, args.port, args.workers, args.reload)
    elif args.command == "seed":
        from service.cli.demo_data import seed_demo

        asyncio.run(seed_demo(Settings.from_env()))


if __name__ == "__main__":
    main()
