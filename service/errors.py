"""Domain errors and the one mapping from any exception to an HTTP status and the spec's error body."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = structlog.get_logger("service.errors")

ErrorBody = dict[str, dict[str, list[str]]]


class DomainError(Exception):
    """Base of the errors services raise; each knows its status and the field it is about."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY
    # Most errors undo the request's writes; a few must keep them (a failed login is recorded).
    keeps_writes = False

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


class InvalidInput(DomainError):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class NotAuthenticated(DomainError):
    status_code = HTTP_401_UNAUTHORIZED


class LoginFailed(NotAuthenticated):
    """Wrong e-mail or password; the failure recorded by the limiter is committed with the 401."""

    keeps_writes = True

    def __init__(self) -> None:
        super().__init__("email or password", "is invalid")


class Forbidden(DomainError):
    status_code = HTTP_403_FORBIDDEN


class NotFound(DomainError):
    status_code = HTTP_404_NOT_FOUND

    def __init__(self, field: str) -> None:
        super().__init__(field, "not found")


class TooManyAttempts(DomainError):
    status_code = HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("body", "too many failed attempts, try again later")
        self.retry_after_seconds = retry_after_seconds


def error_body(field: str, *messages: str) -> ErrorBody:
    return {"errors": {field: list(messages)}}


def _respond(status: int, body: ErrorBody, headers: Mapping[str, str] | None = None) -> Response[ErrorBody]:
    return Response(body, status_code=status, headers=dict(headers or {}))


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, TooManyAttempts) else {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Token"
    return _respond(exc.status_code, error_body(exc.field, exc.message), headers)


def handle_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    """Litestar's decode and parameter errors become the spec's 422 body, keyed by field name."""
    errors: dict[str, list[str]] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        field, message = _describe(item)
        errors.setdefault(field, []).append(message)
    if not errors:
        errors["body"] = [_lower_first(str(exc.detail)) or "is invalid"]
    return _respond(HTTP_422_UNPROCESSABLE_ENTITY, {"errors": errors})


_CHECKED_FIELD = re.compile(r"([a-z_][a-z0-9_]*): (.+)", re.DOTALL)


def _describe(item: object) -> tuple[str, str]:
    """{"key": "user.email", "message": "Expected `str`, got `int`"} -> ("email", "expected `str`, got `int`").

    Library-specific: the `key`/`message` shape is Litestar's ValidationException `extra`, and the
    messages matched below are msgspec's wording (docs/upgrading.md lists them to re-check).
    """
    if not isinstance(item, dict):
        return "body", str(item)
    message = str(item.get("message") or "is invalid")
    names = [part for part in re.split(r"[.\[\]]", str(item.get("key") or "")) if part and not part.isdigit()]
    missing = re.match(r"Object missing required field `(\w+)`", message)
    if missing:  # the key names the parent object; the message names the field
        return missing.group(1), "can't be blank"
    checked = _CHECKED_FIELD.fullmatch(message)
    if checked:  # a Struct's own check (__post_init__) is keyed by the object; its message names the field
        return checked.group(1), checked.group(2)
    field = names[-1] if names else "body"
    if field == "data":  # Litestar's name for the whole request body
        return "body", "is missing or is not the expected JSON object"
    if message.startswith("Expected `str` of length >= 1"):
        return field, "can't be blank"
    if "matching regex" in message:
        return field, "can't be blank or contain characters that are not allowed"
    return field, _lower_first(message)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@dataclass(frozen=True, slots=True)
class Violation:
    """What a violated constraint means to the client, and how SQLite words it (None: it cannot)."""

    status: int
    field: str
    message: str
    sqlite_words: str | None = None


_422, _404 = HTTP_422_UNPROCESSABLE_ENTITY, HTTP_404_NOT_FOUND
# Constraint names come from the naming convention in db.py. Driver-specific (docs/upgrading.md):
# asyncpg's message quotes the constraint's name ('... violates unique constraint "uq_users_email"'),
# and so does MariaDB's ("Duplicate entry 'x' for key 'uq_users_email'", "CONSTRAINT
# `ck_follows_not_self` failed", "... CONSTRAINT `fk_comments_article_id_articles` FOREIGN KEY");
# sqlite3's names a unique constraint by its columns ("UNIQUE constraint failed: users.email") and a
# CHECK by its name, but never says which foreign key failed: there writers queue one after the
# other, so a parent cannot vanish mid-request.
CONSTRAINT_VIOLATIONS = {
    "uq_users_email": Violation(_422, "email", "has already been taken", "UNIQUE constraint failed: users.email"),
    "uq_users_username": Violation(
        _422, "username", "has already been taken", "UNIQUE constraint failed: users.username"
    ),
    "uq_articles_slug": Violation(_422, "title", "must be unique", "UNIQUE constraint failed: articles.slug"),
    "ck_follows_not_self": Violation(_422, "username", "cannot follow yourself", "ck_follows_not_self"),
    # The parent row was deleted by another request between our lookup and our insert.
    "fk_comments_article_id_articles": Violation(_404, "article", "not found"),
    "fk_favorites_article_id_articles": Violation(_404, "article", "not found"),
    "fk_follows_followee_id_users": Violation(_404, "profile", "not found"),
}


def violated_constraint(exc: DBAPIError) -> str | None:
    """The name of the constraint an IntegrityError reports, when it is one of CONSTRAINT_VIOLATIONS."""
    text = str(exc.orig)
    for name, violation in CONSTRAINT_VIOLATIONS.items():
        if name in text or (violation.sqlite_words is not None and violation.sqlite_words in text):
            return name
    return None


def handle_integrity_error(_: Request[Any, Any, Any], exc: DBAPIError) -> Response[ErrorBody]:
    """A constraint the database enforced (often a race two requests lost) is the client's 4xx."""
    constraint = violated_constraint(exc)
    if constraint is not None:
        violation = CONSTRAINT_VIOLATIONS[constraint]
        return _respond(violation.status, error_body(violation.field, violation.message))
    text = str(exc.orig)
    log.warning("integrity_error", error=text.splitlines()[0] if text else type(exc.orig).__name__)
    return _respond(HTTP_422_UNPROCESSABLE_ENTITY, error_body("body", "conflicts with existing data"))


def handle_database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    return _unavailable(exc, "is unavailable, try again shortly")


def _unavailable(exc: Exception, message: str) -> Response[ErrorBody]:
    # Only the first line: later ones may hold SQL. A bare TimeoutError has no message at all.
    first_line = next(iter(str(exc).splitlines()), "")[:200]
    log.error("database_unavailable", error_type=type(exc).__name__, error=first_line)
    return _respond(HTTP_503_SERVICE_UNAVAILABLE, error_body("database", message), {"Retry-After": "5"})


# SQLSTATE classes of a database that is away or overloaded, not of a bad query: 08 connection
# exception, 57 operator intervention (shutdown, starting up, statement timeout), 53 insufficient
# resources (too many connections), 58 system error (I/O), plus lock_not_available. The fault
# tests meet most of them.
# Driver-specific: asyncpg exposes the code as `.sqlstate`, psycopg as `.pgcode`; sqlite3 has none.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53", "58")
_LOCK_NOT_AVAILABLE = "55P03"
_QUERY_CANCELED = "57014"  # statement_timeout


def handle_dbapi_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[ErrorBody]:
    """Errors from a lost, restarting or slow database are 503; anything else from the driver is a bug (500)."""
    if violated_constraint(exc) is not None:
        # asyncmy reports MariaDB's failed CHECK (error 4025) as an OperationalError, not an
        # IntegrityError: the constraint's name, not the exception class, says what happened.
        return handle_integrity_error(request, exc)
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
    if sqlstate in _CONFLICT_SQLSTATES or _mysql_errno(exc) == _MYSQL_DEADLOCK:
        return _transaction_conflict(request, exc)
    if sqlstate in (_QUERY_CANCELED, _LOCK_NOT_AVAILABLE) or _is_timeout(exc):
        return _unavailable(exc, "did not answer in time, try again shortly")
    if _is_unavailable(exc, sqlstate):
        return handle_database_unavailable(request, exc)
    return handle_unexpected_error(request, exc)


def _is_unavailable(exc: DBAPIError, sqlstate: str) -> bool:
    """The database is away, restarting or overloaded, as opposed to refusing this query.

    PEP 249's OperationalError alone does not tell: sqlite3 and asyncmy also raise it for an
    unknown column or a syntax error, which are bugs (500, with a traceback in the log). So the
    driver's own code decides wherever it gives one.
    """
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        # SQLAlchemy's verdict that the connection is gone (the pool replaces it), and asyncpg's
        # closed connection.
        return True
    if sqlstate:
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)
    if (errno := _mysql_errno(exc)) is not None:
        # 2000 and up are the client library's own errors: cannot connect, connection lost.
        return errno >= _MYSQL_CLIENT_ERRORS or errno in _MYSQL_UNAVAILABLE
    if type(exc.orig).__module__ == "sqlite3":
        return str(exc.orig).startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, OperationalError)


_MYSQL_CLIENT_ERRORS = 2000
# Server-side errors about the connection or the server, not the query: too many connections,
# shutdown in progress, aborted connection, network read/write errors, connection killed, and
# disconnected for inactivity.
_MYSQL_UNAVAILABLE = frozenset({1040, 1053, 1152, 1158, 1159, 1160, 1161, 1927, 4031})
# sqlite3 messages of a busy or failing file (busy_timeout passed, disk trouble).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "disk I/O error",
    "unable to open database file",
    "database or disk is full",
)


# MariaDB/MySQL error numbers (asyncmy puts them first in the error's args): max_statement_time
# exceeded (MariaDB), max_execution_time exceeded (MySQL 8), lock wait timeout.
_MYSQL_TIMEOUTS = frozenset({1969, 3024, 1205})
# The database broke a deadlock (or, PostgreSQL only, refused a serializable commit) by rolling the
# whole transaction back. Nothing of it is kept, so the request can run again from the start.
_CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
_MYSQL_DEADLOCK = 1213

# Set in the ASGI scope's state by the handler below; db.RetryTransactionConflicts reads it.
TRANSACTION_CONFLICT = "transaction_conflict"


def _transaction_conflict(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[ErrorBody]:
    """503 with a short Retry-After, and a mark asking db.RetryTransactionConflicts to run the
    request again instead of sending this answer (it sends it once its attempts are spent)."""
    request.scope["state"][TRANSACTION_CONFLICT] = True
    first_line = next(iter(str(exc).splitlines()), "")[:200]
    log.warning("transaction_conflict", error=first_line)
    body = error_body("database", "was busy with conflicting writes, try again")
    return _respond(HTTP_503_SERVICE_UNAVAILABLE, body, {"Retry-After": "1"})


def _mysql_errno(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _is_timeout(exc: DBAPIError) -> bool:
    # Driver-specific class names: asyncpg's QueryCanceledError (statement_timeout), psycopg's
    # QueryCanceled, and asyncio's TimeoutError when asyncpg's command_timeout or asyncmy's
    # read_timeout fires first.
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    return name in ("QueryCanceledError", "QueryCanceled", "TimeoutError") or _mysql_errno(exc) in _MYSQL_TIMEOUTS


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    detail = _lower_first(str(exc.detail)) if exc.detail else "request failed"
    if exc.status_code == HTTP_400_BAD_REQUEST:
        # Litestar says 400 for a body that is not JSON; the spec's clients expect 422 for any bad input.
        return _respond(HTTP_422_UNPROCESSABLE_ENTITY, error_body("body", f"is not valid JSON: {detail}"))
    return _respond(exc.status_code, error_body("body", detail), exc.headers)


def handle_undecodable_text(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[ErrorBody]:
    """Bytes that are not UTF-8 inside a JSON string: msgspec raises UnicodeDecodeError for them, not
    the DecodeError Litestar turns into a 400, so without this they would be a 500."""
    return _respond(HTTP_422_UNPROCESSABLE_ENTITY, error_body("body", "is not valid UTF-8"))


def handle_too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[ErrorBody]:
    """The JSON decoder recurses per nesting level; a hostile `[[[[...]]]]` body ends here."""
    return _respond(HTTP_422_UNPROCESSABLE_ENTITY, error_body("body", "is nested too deeply"))


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # The scope's path, not request.url: building the URL decodes the query string, which may not be UTF-8.
    log.exception("unhandled_error", method=request.method, path=request.scope["path"], exc_info=exc)
    return _respond(HTTP_500_INTERNAL_SERVER_ERROR, error_body("body", "internal server error"))


ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[ErrorBody]]

EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    IntegrityError: handle_integrity_error,
    DBAPIError: handle_dbapi_error,
    PoolTimeoutError: handle_database_unavailable,  # no pooled connection within DB_POOL_TIMEOUT_SECONDS
    # Raised by the drivers before SQLAlchemy wraps anything: asyncpg cannot connect (refused, reset,
    # a DNS or network error; TimeoutError is an OSError too). The app itself does no other I/O that
    # could raise them in a request (the docs assets are served by Litestar and answer 404 on error).
    ConnectionError: handle_database_unavailable,
    OSError: handle_database_unavailable,
    HTTPException: handle_http_exception,
    RecursionError: handle_too_deep,
    UnicodeDecodeError: handle_undecodable_text,
    Exception: handle_unexpected_error,
}
