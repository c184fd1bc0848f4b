"""Logging setup: JSON lines in production, readable console lines in development, one sink for all.

The service logs through structlog. Lines from libraries that use the standard `logging` module
(uvicorn, granian, SQLAlchemy, asyncio) go through the same renderer, so in JSON mode every line
the process writes is one JSON object a log pipeline can parse.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import msgspec
import structlog

from service.settings import Settings

# Keys that must never reach a log line, whoever passes them: defence in depth behind the rule
# "log ids, never passwords, tokens or e-mail addresses".
REDACTED_KEYS = frozenset({"password", "token", "authorization", "email", "secret", "secret_key", "cookie"})
# Servers configure their own handlers; ours replace them so their lines share the format.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "granian", "_granian", "granian.access")


_json = msgspec.json.Encoder(enc_hook=str)  # ~6x faster than json.dumps; unknown types become str


def _dumps(event_dict: Any, **_: Any) -> str:
    return _json.encode(event_dict).decode()


# The request line's logger, bound again by each configure_logging: a concrete logger skips the
# lazy proxy's look-up of the configuration on every call.
_request_logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("service.requests")


def log_request(level: str, fields: dict[str, Any]) -> None:
    """Write one request line through the same processors as every other line. `fields` holds
    ids and numbers only (service.ops.observability)."""
    getattr(_request_logger, level)("request", **fields)


# Set by service.ops.observability for the duration of each request; one ContextVar costs less per
# request than structlog.contextvars.bind_contextvars and needs no cleanup dance.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def add_request_id(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in REDACTED_KEYS.intersection(event_dict):
        event_dict[key] = "[redacted]"
    return event_dict


def uses_json(settings: Settings) -> bool:
    return settings.log_format == "json" or (settings.log_format == "auto" and settings.is_production)


class _ServiceHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installed, so reconfiguring replaces it and nothing else."""


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger to write to `stream` (stderr)."""
    stream = stream or sys.stderr
    use_json = uses_json(settings)
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    # JSON needs the traceback as a string field; the console renderer prints it itself.
    exceptions: structlog.typing.Processor = (
        structlog.processors.format_exc_info if use_json else structlog.processors.StackInfoRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        add_request_id,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=stream),  # PrintLogger's print() costs more
        cache_logger_on_first_use=False,  # tests reconfigure; a cached logger would keep the old sink
    )
    global _request_logger
    _request_logger = structlog.get_logger("service.requests").bind()
    _route_standard_logging(stream, level, [exceptions, renderer], [*shared, structlog.stdlib.add_logger_name])


def _route_standard_logging(
    stream: TextIO, level: int, last: list[structlog.typing.Processor], chain: list[structlog.typing.Processor]
) -> None:
    handler = _ServiceHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=chain,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *last],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # The service writes its own request line (service.ops.observability); the server's would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
