"""Every setting of the service: its environment variable, default and check, read once."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, get_origin, get_type_hints

import msgspec
from dotenv import dotenv_values

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/conduit.db"
ENVIRONMENTS = ("development", "test", "production")
T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The service's configuration. Build it with `Settings.from_env()`; tests pass values directly."""

    environment: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEFAULT_SECRET_KEY
    jwt_expires_seconds: int = 7 * 24 * 3600
    # One of the five Argon2id settings OWASP's password-storage cheat sheet lists as equally strong
    # (m=46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t=5, all p=1): the one holding the
    # least memory, since a worker holds one block per core at once. Measured here: 21 ms of CPU per
    # hash against 27 for 19 MiB t=2, and 12 MiB less at a worker's peak (ADR 0005).
    argon2_time_cost: int = 5
    argon2_memory_kib: int = 7_168
    argon2_parallelism: int = 1
    max_body_bytes: int = 1_048_576
    max_page_size: int = 100
    login_max_failures: int = 5
    login_failure_window_seconds: int = 300
    # How long the answer to a write sent with an Idempotency-Key is kept for retries.
    idempotency_key_ttl_seconds: int = 24 * 3600
    cors_allow_origins: tuple[str, ...] = ("*",)
    # Proxies whose X-Forwarded-For/-Proto the server believes (client address for the login limit).
    forwarded_allow_ips: str = "127.0.0.1"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 5.0
    db_connect_timeout_seconds: float = 3.0
    db_statement_timeout_ms: int = 5_000
    log_level: str = "INFO"
    log_format: str = "auto"  # "json", "console" or "auto" (json in production, console otherwise)
    metrics_enabled: bool = True
    # Off only to measure what the request log costs (loadtests/bench/observability.py); with metrics also
    # off, the observability middleware is not installed at all (no request ids either).
    request_log_enabled: bool = True
    # Set (in the process environment, before start) when several server workers share one
    # /metrics: prometheus-client then sums every worker's files in this directory.
    prometheus_multiproc_dir: str = ""
    # How long the server lets in-flight requests finish after SIGTERM before closing them.
    shutdown_timeout_seconds: int = 20
    docs_enabled: bool = True
    # What the app server accepts from a client before the app sees a request (service/ops/http_limits.py),
    # close to NGINX's large_client_header_buffers 4 8k, client_header_timeout and client_body_timeout:
    # a client talking to the app directly cannot grow a worker's memory or hold it with a slow send.
    server_max_request_line_bytes: int = 8192  # longer request target: 414
    server_max_header_bytes: int = 32768  # the whole head, request line included: 431
    server_max_headers: int = 100  # more header fields: 431
    server_header_timeout_seconds: float = 10.0  # head not complete this long after its first byte: 408
    server_body_timeout_seconds: float = 10.0  # no body byte for this long while the server reads: 408

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_changes(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> Settings:
        """Refuse configurations that would be unsafe or meaningless; returns self for chaining."""
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}")
        if self.is_production and (self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32):
            raise SettingsError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {self.log_level!r}")
        if self.log_format not in ("auto", "json", "console"):
            raise SettingsError(f"LOG_FORMAT must be auto, json or console, not {self.log_format!r}")
        for name in (
            "jwt_expires_seconds",
            "max_body_bytes",
            "max_page_size",
            "argon2_time_cost",
            "argon2_parallelism",
            "idempotency_key_ttl_seconds",
            "server_max_request_line_bytes",
            "server_max_headers",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name.upper()} must be at least 1")
        if self.server_max_header_bytes < self.server_max_request_line_bytes:
            # The request line is part of the head: a smaller head limit would answer 431 for a long URL.
            raise SettingsError("SERVER_MAX_HEADER_BYTES must be at least SERVER_MAX_REQUEST_LINE_BYTES")
        for name in ("server_header_timeout_seconds", "server_body_timeout_seconds"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{name.upper()} must be greater than 0")
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise SettingsError("ARGON2_MEMORY_KIB must be at least 8 x ARGON2_PARALLELISM")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
        """Read settings from a `.env` file (if present) overridden by the process environment."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls._from_mapping(values).validate()

    @classmethod
    def _from_mapping(cls, values: Mapping[str, str]) -> Settings:
        return parse_environment(cls, values)


# Spellings people use for switches beyond the true/false/1/0 msgspec understands.
_SWITCH_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}


def parse_environment(target: type[T], values: Mapping[str, str]) -> T:
    """An instance of the dataclass `target` from the environment variables named after its fields.

    msgspec converts each string to the field's declared type in its lax mode ("8" -> 8, "2.5" ->
    2.5, "false" -> False, "3" for `float | None` -> 3.0); a tuple field takes comma-separated
    values. Unset or empty variables keep the field's default.
    """
    raw: dict[str, object] = {}
    for name, hint in get_type_hints(target).items():
        text = values.get(name.upper(), "").strip()
        if not text:
            continue
        if get_origin(hint) is tuple:
            raw[name] = [part.strip() for part in text.split(",") if part.strip()]
        elif hint is bool:
            raw[name] = _SWITCH_WORDS.get(text.lower(), text)
        else:
            raw[name] = text
    try:
        return msgspec.convert(raw, target, strict=False)
    except msgspec.ValidationError as error:
        field = re.search(r"\$\.(\w+)", str(error))
        variable = field.group(1).upper() if field else "a setting"
        raise SettingsError(f"{variable} has an invalid value: {error}") from None
