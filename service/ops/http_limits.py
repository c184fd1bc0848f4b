"""The app server's own limits on request heads and on stalling clients: a uvicorn httptools protocol."""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import httptools
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.settings import Settings

log = structlog.get_logger("service.ops.http_limits")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What a client may send before the app sees its request, and how long it may take."""

    max_request_line_bytes: int = 8192
    max_header_bytes: int = 32768  # the whole head: request line, headers, blank line
    max_headers: int = 100
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        return cls(
            max_request_line_bytes=settings.server_max_request_line_bytes,
            max_header_bytes=settings.server_max_header_bytes,
            max_headers=settings.server_max_headers,
            header_timeout_seconds=settings.server_header_timeout_seconds,
            body_timeout_seconds=settings.server_body_timeout_seconds,
        )


class Refusal(Exception):
    """A request the server answers itself, with the API's error body, before hanging up."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def build_http_protocol(limits: ServerLimits) -> type[asyncio.Protocol]:
    """What `serve` passes as uvicorn's `http`: the protocol below, bound to `limits`."""
    # uvicorn only calls `http` with (config=, server_state=, app_state=, _loop=), as it would a class.
    # A partial carries the limits and, unlike a class built on the fly, pickles into --workers processes.
    return cast("type[asyncio.Protocol]", functools.partial(LimitedHttpToolsProtocol, limits=limits))


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus NGINX-like limits: 414, 431, 408 and a JSON 400.

    Relies on these uvicorn 0.54 internals; re-check them when upgrading uvicorn: the constructor's
    arguments; `parser`, `url` (grown by `on_url`), `headers` (grown by `on_header`), `cycle` with
    `response_started`, `response_complete`, `waiting_for_100_continue`, `disconnected` and
    `message_event`; `pipeline`; `server_state.default_headers`; `_unset_keepalive_if_required`;
    and the upgrade branch of `data_received`, repeated in ours.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ServerLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        # The next bytes belong to a request's head (from the end of the previous request to the
        # end of this head), else to its body. Only head bytes are counted, and before the parser
        # sees them: httptools keeps a partial header line whole until its end arrives.
        self._is_reading_head = True
        self._head_bytes = 0
        self._header_clock: asyncio.TimerHandle | None = None
        self._body_clock: asyncio.TimerHandle | None = None
        self._could_client_send = True  # at the last start of the body clock

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that sends nothing at all is held no longer than a stalled head.
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        self._stop_body_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self._feed(data)
        except httptools.HttpParserUpgrade:  # uvicorn's own handling, unchanged
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as error:
            # A limit checked in a parser callback below travels as the parser error's context.
            refused = error.__context__
            if not isinstance(refused, Refusal):
                refused = Refusal(HTTPStatus.BAD_REQUEST, "malformed HTTP request")
            self._refuse(refused)
        except Refusal as refused:
            self._refuse(refused)
        else:
            self._watch_for_stall()

    def _feed(self, data: bytes) -> None:
        """Feed the parser; a head at most `max_header_bytes` at a time, counted before it is fed.

        A read that ends one request and starts the next (pipelining) counts the new head from
        the next read: the parser then holds at most one read (up to 256 KB) beyond the limit.
        """
        while data and self._is_reading_head:
            room = self.limits.max_header_bytes - self._head_bytes
            if room <= 0:
                raise Refusal(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    f"request header section too large: the limit is {self.limits.max_header_bytes} bytes",
                )
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            self.parser.feed_data(piece)
        if data:
            self.parser.feed_data(data)

    # Parser callbacks: a Refusal raised here stops the parser and reaches data_received.
    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        # The request target is the part of the request line a client can grow.
        if len(self.url) > self.limits.max_request_line_bytes:
            raise Refusal(
                HTTPStatus.REQUEST_URI_TOO_LONG,
                f"request line too long: the limit is {self.limits.max_request_line_bytes} bytes",
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        if len(self.headers) > self.limits.max_headers:
            raise Refusal(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"too many request headers: the limit is {self.limits.max_headers}",
            )

    def on_headers_complete(self) -> None:
        self._is_reading_head = False
        self._head_bytes = 0
        self._stop_header_clock()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._is_reading_head = True
        self._stop_body_clock()
        super().on_message_complete()

    # Stalling clients. The clocks start only when a read leaves a request incomplete, so a
    # request that arrives in one read (nearly all of them) costs no timer.
    def _watch_for_stall(self) -> None:
        if not self._is_reading_head:
            self._start_body_clock()  # each read of a body is progress: the clock starts over
        elif self._head_bytes and self._header_clock is None:
            self._start_header_clock()  # from the head's first read, not restarted by later ones

    def _start_header_clock(self) -> None:
        self._header_clock = self.loop.call_later(self.limits.header_timeout_seconds, self._on_header_timeout)

    def _on_header_timeout(self) -> None:
        self._header_clock = None
        if not self._head_bytes:  # an idle new connection: nothing to answer
            self.transport.close()
            return
        self._refuse(Refusal(HTTPStatus.REQUEST_TIMEOUT, "request header not received in time"))

    def _stop_header_clock(self) -> None:
        if self._header_clock is not None:
            self._header_clock.cancel()
            self._header_clock = None

    def _start_body_clock(self) -> None:
        self._stop_body_clock()
        # Within one period without reads the client can only go from "cannot send" to "can send"
        # (reading resumes, 100 Continue goes out), never back: both stop only during a read.
        self._could_client_send = self._can_client_send()
        self._body_clock = self.loop.call_later(self.limits.body_timeout_seconds, self._on_body_timeout)

    def _stop_body_clock(self) -> None:
        if self._body_clock is not None:
            self._body_clock.cancel()
            self._body_clock = None

    def _can_client_send(self) -> bool:
        """False while we do not read (flow control: the app has not taken the body yet) or the
        client waits for our 100 Continue: its silence is then not a stall."""
        return self.transport.is_reading() and not self.cycle.waiting_for_100_continue

    def _on_body_timeout(self) -> None:
        self._body_clock = None
        if self._could_client_send:  # it could send for a whole period and sent nothing
            self._refuse(Refusal(HTTPStatus.REQUEST_TIMEOUT, "request body not received in time"))
        else:
            self._start_body_clock()

    # Answers.
    def _refuse(self, refused: Refusal) -> None:
        """Answer with the API's error body when no response is under way, then hang up."""
        if self.transport.is_closing():
            return
        answered = self._may_answer()
        log.info("request_refused", status=refused.status.value, reason=refused.message, answered=answered)
        if answered:
            self.transport.write(self._render(refused))
        if not self._is_reading_head and self.cycle is not None:
            # Tell the app now, as connection_lost will: it stops at once and writes nothing after
            # this answer, even if the hang-up has to wait for a client that does not read it.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def _may_answer(self) -> bool:
        """True when no response is written or being written for the refused request or before it."""
        if self.cycle is None:
            return True
        if self._is_reading_head:  # a new request: the previous one must be fully answered
            return self.cycle.response_complete
        return not self.cycle.response_started and not self.pipeline  # not queued behind another

    def _render(self, refused: Refusal) -> bytes:
        body = json.dumps({"errors": {"body": [refused.message]}}, separators=(",", ":")).encode()  # the API's shape
        head = [f"HTTP/1.1 {refused.status.value} {refused.status.phrase}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        return b"".join(head) + body
